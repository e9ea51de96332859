package roster

import (
	"context"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/watch"
	"xii/libs/backoff"
)

// Run keeps the store's record in step with etcd until ctx ends: it
// records every configured provider (before it can be synced) and carries
// out every retirement. A write that fails is retried with a capped
// backoff; while the store is unreachable new providers stay unavailable,
// and those already recorded are synced as before.
func (r *Roster) Run(ctx context.Context) error {
	failures := 0
	for {
		var wait <-chan time.Time
		if failures > 0 {
			wait = time.After(backoff.Delay(failures, retryMin, r.opts.RetryMax))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.dirty:
		case <-wait:
		}
		if err := r.record(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			r.opts.Logger.Warn("provider record not updated; retrying", "err", err, "failures", failures)
			continue
		}
		failures = 0
	}
}

// work is one write the store's record is behind by.
type work struct {
	name       string
	remember   bool   // record name with value; else retire it
	value      string // the descriptor, for remember
	retirement watch.Retirement
}

// pendingLocked lists the writes the record is behind by. Nothing is
// written before both prefixes were read: remembering a provider takes
// back its retirement, which only a read of /xii/retired/ can rule out.
func (r *Roster) pendingLocked() []work {
	if !r.providersRead || !r.retiredRead {
		return nil
	}
	var ws []work
	for name, ret := range r.retired {
		if done, ok := r.retiredDone[name]; !ok || done != ret {
			ws = append(ws, work{name: name, retirement: ret})
		}
	}
	for name, p := range r.providers {
		if _, retired := r.retired[name]; retired {
			continue
		}
		if k, ok := r.known[name]; !ok || k.Retired || k.Descriptor != p.Value {
			ws = append(ws, work{name: name, remember: true, value: p.Value})
		}
	}
	return ws
}

// record carries out the pending writes, applying the set after each, and
// returns the first error.
func (r *Roster) record(ctx context.Context) error {
	r.mu.Lock()
	ws := r.pendingLocked()
	r.mu.Unlock()
	for _, w := range ws {
		if w.remember {
			if err := r.opts.Store.RememberProvider(ctx, w.name, w.value); err != nil {
				return err
			}
		} else if err := r.opts.Store.RetireProvider(ctx, w.name, w.retirement.DropRows); err != nil {
			return err
		}
		r.mu.Lock()
		if w.remember {
			r.known[w.name] = aggregate.KnownProvider{Name: w.name, Descriptor: w.value}
		} else {
			k := r.known[w.name]
			k.Name, k.Retired = w.name, true
			r.known[w.name] = k
			r.retiredDone[w.name] = w.retirement
			r.opts.Logger.Info("provider retired", "provider", w.name, "rows_deleted", w.retirement.DropRows)
		}
		r.applyLocked()
		r.mu.Unlock()
	}
	// etcd may have changed while writing; what is still behind waits for
	// the next signal, which SetProviders and SetRetired have sent.
	return nil
}
