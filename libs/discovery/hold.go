package discovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Reasons a registration is lost.
var (
	errDeleted     = errors.New("key deleted, or its lease revoked or expired")
	errReplaced    = errors.New("key overwritten by another writer")
	errUnconfirmed = errors.New("etcd unreachable for a whole lease TTL")
)

// newWatchClient returns the client that watches the registration. Unlike
// go-kit's it can be closed, and it does not dial before its first call.
func newWatchClient(cfg RegistrarConfig) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    keepaliveTime,
		DialKeepAliveTimeout: cfg.DialTimeout,
		DialOptions:          dialOptions(cfg),
		Logger:               zap.NewNop(), // the Registrar logs what matters
	})
	if err != nil {
		return nil, fmt.Errorf("watch client: %w", err)
	}
	return cli, nil
}

// hold watches s's key until the registration is lost, and returns why, or
// until ctx ends, and returns nil. Every third of a TTL it also reads the
// key, so a missed event or an etcd outage is noticed: once nothing could
// be confirmed for a whole TTL, the client has stopped renewing the lease.
func (r *Registrar) hold(ctx context.Context, cli *clientv3.Client, s *session) error {
	confirmed := s.start
	var (
		events  clientv3.WatchChan      // nil until a watch is set up
		pending chan clientv3.WatchChan // non-nil while one is being set up
	)
	wctx, wcancel := context.WithCancel(ctx)
	defer func() { wcancel() }()

	// watch sets up a watch from rev in the background: clientv3's Watch
	// waits for etcd to confirm it, however long etcd is away.
	watch := func(rev int64) {
		wcancel()
		wctx, wcancel = context.WithCancel(ctx)
		pending = make(chan clientv3.WatchChan, 1)
		go func(ctx context.Context, ready chan<- clientv3.WatchChan) {
			ready <- cli.Watch(ctx, r.cfg.key(), clientv3.WithRev(rev))
		}(wctx, pending)
	}
	check := func() error {
		rev, err := r.confirm(ctx, cli, s)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errDeleted), errors.Is(err, errReplaced):
			return err
		case err != nil && time.Since(confirmed) >= r.cfg.TTL:
			return fmt.Errorf("%w: %w", errUnconfirmed, err)
		case err != nil:
			r.log.Debug("etcd registration not confirmed", "err", err)
			return nil
		}
		confirmed = time.Now()
		if events == nil && pending == nil {
			watch(rev + 1)
		}
		return nil
	}

	tick := time.NewTicker(r.cfg.TTL / 3)
	defer tick.Stop()
	if err := check(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := check(); err != nil {
				return err
			}
		case events = <-pending:
			pending = nil
		case wr, ok := <-events:
			if !ok || wr.Err() != nil { // cancelled or compacted: read and watch again
				events = nil
				if err := check(); err != nil {
					return err
				}
				continue
			}
			for _, ev := range wr.Events {
				if err := r.judge(ev.Type, ev.Kv, s); err != nil {
					return err
				}
			}
		}
	}
}

// confirm reads the key and returns the store's revision when it still
// holds s's value and lease.
func (r *Registrar) confirm(ctx context.Context, cli *clientv3.Client, s *session) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.TTL/3)
	defer cancel()
	resp, err := cli.Get(ctx, r.cfg.key())
	if err != nil {
		return 0, fmt.Errorf("read key: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, errDeleted
	}
	if err := r.judge(mvccpb.PUT, resp.Kvs[0], s); err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// judge returns why a change of the key means s lost its registration, or
// nil when the key is still s's.
func (r *Registrar) judge(typ mvccpb.Event_EventType, kv *mvccpb.KeyValue, s *session) error {
	switch {
	case typ == mvccpb.DELETE:
		return errDeleted
	case kv.Lease != s.lease || string(kv.Value) != r.cfg.Value:
		return errReplaced
	}
	return nil
}

// revoke revokes leases of ended sessions, so keys still attached to them
// go now rather than a TTL later. Failures are only logged: unrevoked
// leases expire by themselves.
func (r *Registrar) revoke(ctx context.Context, cli *clientv3.Client, leases []int64) {
	for _, id := range leases {
		if ctx.Err() != nil {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
		_, err := cli.Revoke(rctx, clientv3.LeaseID(id))
		cancel()
		if err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			r.log.Debug("revoke old etcd lease", "lease", id, "err", err)
		}
	}
}
