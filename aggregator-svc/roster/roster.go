// Package roster keeps the set of providers the freshness guarantee
// covers, and hands it to the syncer whenever it changes.
//
// The covered set is durable, not today's view of etcd: it is every
// provider the aggregate has synced or found configured in etcd (the
// store's record, read at start-up) together with every provider now
// under /xii/providers/, less those retired under /xii/retired/. A covered
// provider that is not registered — its lease expired because it crashed
// or froze — stays in the set as unavailable; one whose descriptor cannot
// be used is misconfigured. Both make an answer incomplete and are named
// in it; neither is ever left out.
//
// Three rules make the set safe to answer "complete" from:
//
//   - A provider is recorded in the store before it is first synced, so
//     a replica that restarts after the provider's lease has expired still
//     knows it.
//   - The set is confirmed only once this replica has read both prefixes
//     from etcd; until then every answer is incomplete, and the providers
//     of the store's record are reported unavailable (their old descriptors
//     are not trusted: the address may belong to someone else by now).
//   - Retirement is the only way out: a key /xii/retired/<name>, carried
//     out in the store (rows kept or deleted in one transaction). Only
//     configuring the provider again, with the retired key removed, takes
//     it back.
package roster

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"xii/libs/xiiapi"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/syncer"
	"xii/aggregator-svc/watch"
	"xii/libs/discovery"
)

// Reasons clients see for a covered provider that is not synced.
const (
	reasonUnconfirmed  = "not yet confirmed in etcd by this replica"
	reasonUnregistered = "not registered in etcd (down, or its lease expired); retire it to drop it from the guarantee"
	reasonUnrecorded   = "not yet recorded in the aggregate"
)

// Defaults for Options' zero fields.
const (
	DefaultConfirmWait = 5 * time.Second
	DefaultRetryMax    = 2 * time.Second
	retryMin           = 100 * time.Millisecond
)

// Store is the durable record of the covered providers.
type Store interface {
	// KnownProviders returns every provider the store knows, retired ones
	// included.
	KnownProviders(ctx context.Context) ([]aggregate.KnownProvider, error)
	// RememberProvider records a configured provider and its descriptor,
	// and takes back its retirement.
	RememberProvider(ctx context.Context, name, descriptor string) error
	// RetireProvider marks the provider retired, deleting its rows and
	// cursor when dropRows is set.
	RetireProvider(ctx context.Context, name string, dropRows bool) error
}

// Builder makes the syncer's source for a provider from its descriptor.
// An error makes the provider misconfigured; its text is shown to clients,
// so it must not hold a credential.
type Builder func(name string, d discovery.Descriptor) (syncer.Source, error)

// Options configure a Roster.
type Options struct {
	Store Store
	Build Builder
	// Apply receives the covered set after every change, one call at a
	// time.
	Apply  func(syncer.Set)
	Logger *slog.Logger
	// ConfirmWait is how long after Load a replica that cannot reach etcd
	// waits before calling itself ready anyway (answering incomplete).
	ConfirmWait time.Duration
	// RetryMax caps the delay between attempts to write to the store.
	RetryMax time.Duration
}

// Roster is the covered set of one replica. Feed it with SetProviders and
// SetRetired from watches of etcd, and run Run to keep the store's record.
type Roster struct {
	opts     Options
	dirty    chan struct{} // has a value when the store may be behind
	confirm  chan struct{} // closed once both prefixes were read
	loadedAt time.Time

	mu            sync.Mutex
	known         map[string]aggregate.KnownProvider // the store's record, as read and written
	loaded        bool
	providers     map[string]watch.Provider // etcd's /xii/providers/, once read
	providersRead bool
	retired       map[string]watch.Retirement // etcd's /xii/retired/, once read
	retiredRead   bool
	retiredDone   map[string]watch.Retirement // retirements carried out by this process
	built         map[string]built            // sources by name, for their current value
	confirmedOnce bool
}

// built is a source made from one descriptor value, or why it could not be.
type built struct {
	value string
	src   syncer.Source
	err   error
}

// New returns a Roster with nothing loaded: until Load and the first
// reads of etcd, its set is unconfirmed and empty.
func New(opts Options) (*Roster, error) {
	if opts.Store == nil || opts.Build == nil || opts.Apply == nil {
		return nil, errors.New("roster: store, builder and apply are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ConfirmWait <= 0 {
		opts.ConfirmWait = DefaultConfirmWait
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = DefaultRetryMax
	}
	return &Roster{
		opts:        opts,
		dirty:       make(chan struct{}, 1),
		confirm:     make(chan struct{}),
		known:       map[string]aggregate.KnownProvider{},
		retiredDone: map[string]watch.Retirement{},
		built:       map[string]built{},
	}, nil
}

// Load reads the store's record of known providers. Call it once, before
// the replica serves: the providers it returns are covered from then on.
func (r *Roster) Load(ctx context.Context) error {
	known, err := r.opts.Store.KnownProviders(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range known {
		r.known[k.Name] = k
	}
	r.loaded, r.loadedAt = true, time.Now()
	r.applyLocked()
	return nil
}

// SetProviders takes the content of /xii/providers/, as watch.Providers
// delivers it.
func (r *Roster) SetProviders(ps map[string]watch.Provider) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.providers, r.providersRead = ps, true
	r.applyLocked()
	r.markDirty()
}

// SetRetired takes the content of /xii/retired/, as watch.Retired
// delivers it.
func (r *Roster) SetRetired(rs map[string]watch.Retirement) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retired, r.retiredRead = rs, true
	r.applyLocked()
	r.markDirty()
}

// Confirmed is closed once the replica has read both prefixes from etcd
// and recorded what they hold: from then on its set is whole.
func (r *Roster) Confirmed() <-chan struct{} { return r.confirm }

// Ready reports, for /readyz, whether the replica knows what "every
// provider" means: it has read the set from etcd, or it has loaded the
// store's record and etcd has stayed out of reach for ConfirmWait (then it
// answers, incompletely, naming the providers it cannot confirm).
func (r *Roster) Ready(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.confirmedOnce:
		return nil
	case r.loaded && time.Since(r.loadedAt) >= r.opts.ConfirmWait:
		return nil
	case r.loaded:
		return errors.New("provider set: not yet read from etcd")
	}
	return errors.New("provider set: not yet loaded from the aggregate")
}

func (r *Roster) markDirty() {
	select {
	case r.dirty <- struct{}{}:
	default:
	}
}

// retiredLocked reports whether name is out of the covered set: retired
// in etcd, or retired in the store and not configured again since.
func (r *Roster) retiredLocked(name string) bool {
	if _, ok := r.retired[name]; ok {
		return true
	}
	if !r.known[name].Retired {
		return false
	}
	_, configured := r.providers[name]
	return !(configured && r.retiredRead)
}

// applyLocked computes the covered set and hands it to Apply.
func (r *Roster) applyLocked() {
	names := map[string]bool{}
	for name, k := range r.known {
		if !k.Retired {
			names[name] = true
		}
	}
	for name := range r.providers {
		names[name] = true
	}
	set := syncer.Set{Confirmed: r.providersRead && r.retiredRead}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		if r.retiredLocked(name) {
			continue
		}
		status, reason := r.stateLocked(name)
		if status == xiiapi.StatusOK {
			set.Sources = append(set.Sources, r.built[name].src)
			continue
		}
		set.Missing = append(set.Missing, syncer.Missing{Name: name, Status: status, Reason: reason})
	}
	for name := range r.built {
		if _, ok := r.providers[name]; !ok {
			delete(r.built, name)
		}
	}
	r.opts.Apply(set)
	// Confirmed once the set is read and what it holds is recorded, so a
	// ready replica syncs the providers it found at once.
	if set.Confirmed && !r.confirmedOnce && len(r.pendingLocked()) == 0 {
		r.confirmedOnce = true
		close(r.confirm)
	}
}

// stateLocked says whether the covered provider name can be synced
// (StatusOK, its source built) and if not, why.
func (r *Roster) stateLocked(name string) (aggregate.SyncStatus, string) {
	p, configured := r.providers[name]
	switch {
	case !configured && !r.providersRead:
		return xiiapi.StatusUnavailable, reasonUnconfirmed
	case !configured:
		return xiiapi.StatusUnavailable, reasonUnregistered
	case p.Problem != "":
		return xiiapi.StatusMisconfigured, p.Problem
	}
	if b := r.buildLocked(name, p); b.err != nil {
		return xiiapi.StatusMisconfigured, b.err.Error()
	}
	if !r.recordedLocked(name) {
		return xiiapi.StatusUnavailable, reasonUnrecorded
	}
	return xiiapi.StatusOK, ""
}

// recordedLocked reports whether the store's record covers name, so that
// it may be synced.
func (r *Roster) recordedLocked(name string) bool {
	k, ok := r.known[name]
	return ok && !k.Retired
}

// buildLocked returns the source for p, made again only when its value
// changed, so that a source's state (its breaker, its rate limiter)
// survives unrelated changes.
func (r *Roster) buildLocked(name string, p watch.Provider) built {
	if b, ok := r.built[name]; ok && b.value == p.Value {
		return b
	}
	src, err := r.opts.Build(name, p.Descriptor)
	b := built{value: p.Value, src: src, err: err}
	if err != nil {
		r.opts.Logger.Warn("provider misconfigured", "provider", name, "err", err)
	}
	r.built[name] = b
	return b
}
