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

// errLeadershipLost means the lease or the leader key is gone for good.
var errLeadershipLost = errors.New("leadership lost")

// term is one session: it grants a lease, campaigns with it and leads
// while the lease is confirmed alive. It returns why the session ended, or
// nil when ctx ended.
func (e *Elector) term(ctx context.Context) error {
	sent := e.now()
	gctx, cancel := context.WithTimeout(ctx, e.cfg.RequestTimeout)
	grant, err := e.cli.Grant(gctx, int64(e.cfg.TTL/time.Second))
	cancel()
	if err != nil {
		return fmt.Errorf("grant lease: %w", err)
	}
	// etcd keeps the lease for at least its TTL after the grant was sent.
	valid := sent + time.Duration(grant.TTL)*time.Second

	// The session outlives ctx so that ending the term can resign.
	sctx, scancel := context.WithCancel(context.WithoutCancel(ctx))
	defer scancel()
	s, err := concurrency.NewSession(e.cli, concurrency.WithLease(grant.ID),
		concurrency.WithTTL(int(grant.TTL)), concurrency.WithContext(sctx))
	if err != nil {
		e.revoke(ctx, grant.ID)
		return fmt.Errorf("start session: %w", err)
	}
	el := concurrency.NewElection(s, e.cfg.Prefix)
	campaign := make(chan error, 1)
	go func() { campaign <- el.Campaign(s.Ctx(), e.cfg.ID) }()

	leading := false
	defer func() { e.end(ctx, s, el, leading, campaign) }()

	tick := time.NewTicker(e.cfg.TTL / 3)
	defer tick.Stop()
	var keyEvents clientv3.WatchChan // the leader key's, while leading
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.Done():
			return fmt.Errorf("%w: lease not kept alive", errLeadershipLost)
		case err := <-campaign:
			campaign = nil
			if err != nil {
				return fmt.Errorf("campaign: %w", err)
			}
			leading = true
			e.lead(valid)
			e.log.Info("became leader", "lease", fmt.Sprintf("%x", grant.ID))
			keyEvents = e.watchKey(s.Ctx(), el)
		case wr, ok := <-keyEvents:
			if !ok || wr.Err() != nil {
				keyEvents = nil // the ticks still check the key
				continue
			}
			for _, ev := range wr.Events {
				if ev.Type == mvccpb.DELETE {
					return fmt.Errorf("%w: leader key %s deleted", errLeadershipLost, el.Key())
				}
			}
		case <-tick.C:
			key := ""
			if leading {
				key = el.Key()
			}
			renewed, err := e.confirm(ctx, grant.ID, key)
			switch {
			case errors.Is(err, errLeadershipLost):
				return err
			case err != nil && e.now() >= valid:
				return fmt.Errorf("%w: lease not confirmed within %s: %w", errLeadershipLost, e.cfg.TTL, err)
			case err != nil:
				e.log.Debug("lease not confirmed", "err", err)
				continue
			}
			valid = renewed
			if leading {
				e.lead(valid)
			}
		}
	}
}

// watchKey watches the leader key until ctx ends, to notice its deletion
// at once. It returns nil if the watch cannot start within the
// RequestTimeout; the ticks check the key then.
func (e *Elector) watchKey(ctx context.Context, el *concurrency.Election) clientv3.WatchChan {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	timer := time.AfterFunc(e.cfg.RequestTimeout, cancel)
	wch := e.cli.Watch(wctx, el.Key(), clientv3.WithRev(el.Rev()+1))
	if !timer.Stop() {
		return nil
	}
	return wch // wctx ends with ctx, which ends with the session
}

// confirm renews the lease and, unless key is empty, checks that key still
// exists under it. It returns until when the lease is alive for sure, or
// an error wrapping errLeadershipLost when the lease or the key is gone.
func (e *Elector) confirm(ctx context.Context, lease clientv3.LeaseID, key string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, min(e.cfg.RequestTimeout, e.cfg.TTL/3))
	defer cancel()
	sent := e.now()
	ka, err := e.cli.KeepAliveOnce(ctx, lease)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return 0, fmt.Errorf("%w: lease expired or revoked", errLeadershipLost)
	}
	if err != nil {
		return 0, fmt.Errorf("renew lease: %w", err)
	}
	if key != "" {
		resp, err := e.cli.Get(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("read leader key: %w", err)
		}
		if len(resp.Kvs) == 0 || resp.Kvs[0].Lease != int64(lease) {
			return 0, fmt.Errorf("%w: leader key %s deleted", errLeadershipLost, key)
		}
	}
	return sent + time.Duration(ka.TTL)*time.Second, nil
}

// end ends a term: it stops leading at once, resigns if the term ended
// with ctx, ends the session and revokes its lease, each bounded by the
// RequestTimeout. A campaign still running is abandoned: it tidies up by
// itself once etcd answers or the client is closed.
func (e *Elector) end(ctx context.Context, s *concurrency.Session, el *concurrency.Election, leading bool, campaign <-chan error) {
	e.lead(0)
	cleanup := context.WithoutCancel(ctx)
	if leading && ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(cleanup, e.cfg.RequestTimeout)
		if err := el.Resign(rctx); err != nil {
			e.log.Warn("resign", "err", err)
		} else {
			e.log.Info("resigned")
		}
		cancel()
	} else if leading {
		e.log.Warn("no longer leading")
	}
	s.Orphan() // cancels a running campaign
	if campaign != nil {
		select {
		case <-campaign:
		case <-time.After(e.cfg.RequestTimeout):
		}
	}
	e.revoke(cleanup, s.Lease())
}

// revoke revokes lease so its keys go now rather than a TTL later.
// Failure is only logged: the lease expires by itself.
func (e *Elector) revoke(ctx context.Context, lease clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.RequestTimeout)
	defer cancel()
	if _, err := e.cli.Revoke(ctx, lease); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		e.log.Debug("revoke lease", "lease", fmt.Sprintf("%x", lease), "err", err)
	}
}
