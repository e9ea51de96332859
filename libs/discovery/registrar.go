package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"xii/libs/backoff"
)

// Registrar keeps one key registered in etcd under a lease for as long as
// Run runs, registering again whenever the registration is lost.
type Registrar struct {
	cfg     RegistrarConfig
	log     *slog.Logger
	started atomic.Bool

	mu      sync.Mutex
	status  Status
	changed chan struct{} // closed and replaced on every status change
}

// Status is a snapshot of a Registrar's registration.
type Status struct {
	// Registered is true from a successful registration until the key is
	// seen gone or overwritten, or cannot be confirmed for a whole TTL.
	Registered bool
	// LeaseID is the lease of the current registration, 0 when there is
	// none.
	LeaseID int64
	// Registrations counts successful registrations, the first included.
	Registrations int
}

// NewRegistrar checks cfg and returns a Registrar for it. It does not
// contact etcd; Run does.
func NewRegistrar(cfg RegistrarConfig) (*Registrar, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new registrar: %w", err)
	}
	return &Registrar{
		cfg:     cfg,
		log:     cfg.Logger.With("etcd_key", cfg.key()),
		changed: make(chan struct{}),
	}, nil
}

// Key returns the registered key.
func (r *Registrar) Key() string { return r.cfg.key() }

// Status returns the current status and a channel that is closed at the
// next change, so callers can wait for a status without polling.
func (r *Registrar) Status() (Status, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.changed
}

// Registered reports whether the key is registered; see Status.
func (r *Registrar) Registered() bool {
	st, _ := r.Status()
	return st.Registered
}

// Run registers the key and keeps it registered until ctx ends, through
// etcd outages and lost leases; it never fails because etcd is
// unreachable. When ctx ends it deletes the key and revokes the lease,
// giving up after the DeregisterTimeout, and returns the deregistration's
// error. Run may be called once.
func (r *Registrar) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("registrar run: already started")
	}
	cli := r.connect(ctx)
	if cli == nil {
		return nil // ctx ended before etcd answered: nothing was registered
	}
	defer cli.Close()

	var (
		stale    []int64 // leases of lost sessions, revoked once a new one holds the key
		failures int     // registrations failed or quickly lost in a row
	)
	for {
		s, began := r.register(ctx, cli, &failures)
		if s == nil {
			return r.deregister(ctx, cli, nil, stale)
		}
		r.revoke(ctx, cli, stale)
		stale = nil
		lease := int64(s.Lease())
		n := r.setStatus(true, lease)
		r.log.Info("registered in etcd", "lease", leaseHex(lease), "registrations", n)

		err := r.hold(ctx, cli, s)
		if err == nil { // ctx ended
			return r.deregister(ctx, cli, s, stale)
		}
		r.log.Warn("etcd registration lost; registering again", "lease", leaseHex(lease), "err", err)
		s.Orphan() // its lease is revoked with the next registration
		stale = append(stale, lease)
		r.setStatus(false, 0)
		if time.Since(began) < r.cfg.TTL {
			failures++ // flapping, for instance two instances with one name
		} else {
			failures = 0
		}
	}
}

// connect returns a client of etcd, trying again with a capped backoff
// until it has one, or nil once ctx ends. Making one does not wait for
// etcd, with credentials neither (see tokenAuth); it fails on settings
// gRPC refuses.
func (r *Registrar) connect(ctx context.Context) *clientv3.Client {
	for failures := 0; ; failures++ {
		if !backoff.Wait(ctx, failures, retryMin, r.cfg.RetryMax) {
			return nil
		}
		cli, err := newClient(r.cfg)
		if err == nil {
			return cli
		}
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("etcd client not connected; retrying", "err", err, "failures", failures+1)
	}
}

// register opens a session, retrying with a capped backoff, and returns it
// with the time it was opened, or nil once ctx ends.
func (r *Registrar) register(ctx context.Context, cli *clientv3.Client, failures *int) (*concurrency.Session, time.Time) {
	for {
		if !backoff.Wait(ctx, *failures, retryMin, r.cfg.RetryMax) {
			return nil, time.Time{}
		}
		if ctx.Err() != nil {
			return nil, time.Time{}
		}
		s, err := r.open(ctx, cli)
		if err == nil {
			return s, time.Now()
		}
		if ctx.Err() != nil {
			return nil, time.Time{}
		}
		*failures++
		r.log.Warn("etcd registration failed; retrying", "err", err, "failures", *failures)
	}
}

// deregister deletes held's key, if any, and revokes its lease and the
// stale ones, within the DeregisterTimeout.
func (r *Registrar) deregister(ctx context.Context, cli *clientv3.Client, held *concurrency.Session, stale []int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.DeregisterTimeout)
	defer cancel()
	var err error
	if held != nil {
		// Delete only while the key is still this session's.
		same := clientv3.Compare(clientv3.LeaseValue(r.cfg.key()), "=", held.Lease())
		if _, err = cli.Txn(ctx).If(same).Then(clientv3.OpDelete(r.cfg.key())).Commit(); err != nil {
			err = fmt.Errorf("deregister %s: delete key: %w", r.cfg.key(), err)
		}
		held.Orphan()
		stale = append(stale, int64(held.Lease()))
	}
	r.revoke(ctx, cli, stale)
	r.setStatus(false, 0)
	if err != nil {
		return err
	}
	if held != nil {
		r.log.Info("deregistered from etcd", "lease", leaseHex(int64(held.Lease())))
	}
	return nil
}

// setStatus records a change, wakes those waiting for one and returns the
// number of registrations so far.
func (r *Registrar) setStatus(registered bool, lease int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if registered {
		r.status.Registrations++
	}
	r.status.Registered, r.status.LeaseID = registered, lease
	close(r.changed)
	r.changed = make(chan struct{})
	return r.status.Registrations
}

// leaseHex formats a lease ID as etcdctl shows it.
func leaseHex(id int64) string { return strconv.FormatInt(id, 16) }
