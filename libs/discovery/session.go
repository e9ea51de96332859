package discovery

import (
	"context"
	"fmt"
	"time"

	"github.com/go-kit/kit/sd/etcdv3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// keepaliveTime is how often an idle connection to etcd is pinged; gRPC
// allows no less than ten seconds.
const keepaliveTime = 10 * time.Second

// session is one registration through go-kit's etcdv3 client: one lease,
// kept alive by the client until the session ends. go-kit never renews a
// lost lease; the Registrar opens a new session instead.
type session struct {
	client etcdv3.Client
	cancel context.CancelFunc // ends the client's calls and keepalives
	conn   *connCatcher
	svc    etcdv3.Service
	lease  int64
	start  time.Time
}

// openSession registers cfg's key under a new lease. It gives up after a
// TTL, since a lease granted that late may be gone already, or when ctx
// ends.
func openSession(ctx context.Context, cfg RegistrarConfig) (*session, error) {
	// The client's context outlives ctx: it carries the keepalives until the
	// session ends, and deregistration after ctx is done.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	conn := &connCatcher{}
	client, err := etcdv3.NewClient(sctx, cfg.Endpoints, etcdv3.ClientOptions{
		DialTimeout:   cfg.DialTimeout,
		DialKeepAlive: keepaliveTime,
		DialOptions:   append(dialOptions(cfg), conn.dialOptions()...),
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("register: etcd client: %w", err)
	}
	s := &session{
		client: client,
		cancel: cancel,
		conn:   conn,
		svc: etcdv3.Service{
			Key:   cfg.key(),
			Value: cfg.Value,
			// go-kit grants whole seconds and leaves the keepalive rhythm
			// (a third of the TTL) to the etcd client; the heartbeat is unused.
			TTL: etcdv3.NewTTLOption(cfg.TTL/3, cfg.TTL),
		},
	}

	// go-kit's calls use the client's context and wait for etcd to be
	// reachable, so cancelling it mid-call is the only way to bound them.
	timer := time.AfterFunc(cfg.TTL, cancel)
	stop := context.AfterFunc(ctx, cancel)
	err = client.Register(s.svc)
	timedOut, aborted := !timer.Stop(), !stop()
	switch {
	case aborted:
		err = ctx.Err()
	case timedOut:
		err = fmt.Errorf("no answer from etcd within %s", cfg.TTL)
	}
	if err != nil {
		s.abandon()
		return nil, fmt.Errorf("register: %w", err)
	}
	s.lease = client.LeaseID()
	s.start = time.Now()
	return s, nil
}

// abandon ends the session locally and leaves its key and lease to etcd.
// go-kit's Deregister closes the client's lease and watch streams in a
// deferred call before it checks the key, so with an empty Service it sends
// nothing and only closes.
func (s *session) abandon() {
	_ = s.client.Deregister(etcdv3.Service{}) // always etcdv3.ErrNoKey
	s.end()
}

// deregister deletes the key and ends the session, giving up after timeout.
// The lease itself is left for the caller to revoke.
func (s *session) deregister(timeout time.Duration) error {
	timer := time.AfterFunc(timeout, s.cancel)
	err := s.client.Deregister(s.svc)
	timedOut := !timer.Stop()
	s.end()
	switch {
	case timedOut:
		return fmt.Errorf("delete key: no answer from etcd within %s", timeout)
	case err != nil:
		return fmt.Errorf("delete key: %w", err)
	}
	return nil
}

// end releases what go-kit's client holds once its streams are closed.
func (s *session) end() {
	s.cancel()
	s.conn.close()
}

// dialOptions make the etcd clients reconnect quickly after an outage; gRPC
// would otherwise back off for up to two minutes.
func dialOptions(cfg RegistrarConfig) []grpc.DialOption {
	return []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
		Backoff: backoff.Config{
			BaseDelay:  min(retryMin, cfg.RetryMax),
			Multiplier: 1.6,
			Jitter:     0.2,
			MaxDelay:   cfg.RetryMax,
		},
		MinConnectTimeout: cfg.DialTimeout,
	})}
}
