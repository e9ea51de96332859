package discovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Reasons a registration is lost.
var (
	errDeleted  = errors.New("key deleted")
	errReplaced = errors.New("key overwritten by another writer")
	errLeaseEnd = errors.New("lease lost: revoked, expired, or etcd unreachable for a whole TTL")
)

// open grants a lease, writes the key under it and keeps the lease alive
// in a concurrency.Session until the session is closed or orphaned. It
// gives up after a TTL, since a lease granted that late may be gone
// already, or when ctx ends.
func (r *Registrar) open(ctx context.Context, cli *clientv3.Client) (*concurrency.Session, error) {
	rctx, cancel := context.WithTimeout(ctx, r.cfg.TTL)
	defer cancel()
	lease, err := cli.Grant(rctx, int64(r.cfg.TTL/time.Second))
	if err != nil {
		return nil, fmt.Errorf("grant lease: %w", err)
	}
	if _, err := cli.Put(rctx, r.cfg.key(), r.cfg.Value, clientv3.WithLease(lease.ID)); err != nil {
		r.revoke(ctx, cli, []int64{int64(lease.ID)})
		return nil, fmt.Errorf("put %s: %w", r.cfg.key(), err)
	}
	// The session's keepalives outlive ctx, so that the key is still held
	// while it is deregistered.
	s, err := concurrency.NewSession(cli, concurrency.WithLease(lease.ID), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		r.revoke(ctx, cli, []int64{int64(lease.ID)})
		return nil, fmt.Errorf("keep lease alive: %w", err)
	}
	return s, nil
}

// hold watches s's key until the registration is lost, and returns why, or
// until ctx ends, and returns nil. The session notices an outage: its
// keepalives end once etcd has not answered for a whole TTL. While no
// watch runs, the key is read every third of a TTL instead.
func (r *Registrar) hold(ctx context.Context, cli *clientv3.Client, s *concurrency.Session) error {
	tick := time.NewTicker(r.cfg.TTL / 3)
	defer tick.Stop()
	var events clientv3.WatchChan // nil while no watch runs
	stopWatch := context.CancelFunc(func() {})
	defer func() { stopWatch() }()
	for {
		if events == nil {
			rev, err := r.confirm(ctx, cli, s)
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, errDeleted), errors.Is(err, errReplaced):
				return err
			case err != nil:
				r.log.Debug("etcd registration not confirmed", "err", err)
			default:
				stopWatch()
				var wctx context.Context
				wctx, stopWatch = context.WithCancel(ctx)
				events = r.watch(wctx, stopWatch, cli, rev+1)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.Done():
			return errLeaseEnd
		case <-tick.C:
		case wr, ok := <-events:
			if !ok || wr.Err() != nil { // cancelled or compacted: read and watch again
				events = nil
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

// watch watches the key from rev until ctx ends, or returns nil and calls
// cancel when etcd does not set the watch up within a third of a TTL:
// clientv3's Watch waits for etcd to confirm it, however long etcd is away.
func (r *Registrar) watch(ctx context.Context, cancel context.CancelFunc, cli *clientv3.Client, rev int64) clientv3.WatchChan {
	timer := time.AfterFunc(r.cfg.TTL/3, cancel)
	wch := cli.Watch(clientv3.WithRequireLeader(ctx), r.cfg.key(), clientv3.WithRev(rev))
	if !timer.Stop() {
		return nil
	}
	return wch
}

// confirm reads the key and returns the store's revision when it still
// holds s's value and lease.
func (r *Registrar) confirm(ctx context.Context, cli *clientv3.Client, s *concurrency.Session) (int64, error) {
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
func (r *Registrar) judge(typ mvccpb.Event_EventType, kv *mvccpb.KeyValue, s *concurrency.Session) error {
	switch {
	case typ == mvccpb.DELETE:
		return errDeleted
	case clientv3.LeaseID(kv.Lease) != s.Lease() || string(kv.Value) != r.cfg.Value:
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
