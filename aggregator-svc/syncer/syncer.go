// Package syncer keeps the aggregate in step with the providers, and makes
// the freshness guarantee: a Sync that returns a provider as ok has stored
// every record that provider acknowledged before Sync was called.
//
// Per provider, requests share fetch rounds the way etcd's linearizable
// reads share a ReadIndex round: a request never joins a round that is
// already running (it may have begun before the request's write was
// acknowledged), only the one queued behind it, which starts after the
// request arrived. So there is at most one round running and one queued per
// provider, whatever the request rate. Each round pages from the stored
// cursor until the provider says it is caught up, committing every page's
// records together with the new cursor.
package syncer

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"xii/libs/throttle"

	"xii/libs/xiiapi"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/provider"
	"xii/aggregator-svc/tuning"
)

// logEvery is how often a provider that keeps failing is logged.
const logEvery = 10 * time.Second

// backgroundTimeout bounds a round no caller set a deadline for (polling).
const backgroundTimeout = 30 * time.Second

// Store is where synced pages go.
type Store interface {
	// Position returns the provider's stored cursor, "" before its first
	// page, and its count of quarantined records.
	Position(ctx context.Context, provider string) (aggregate.Position, error)
	// ApplyPage stores page, its quarantined records aside, and moves the
	// provider's cursor from `from` to page.Next in one transaction; it
	// returns the provider's quarantined count after. If the stored cursor
	// is no longer from, it writes nothing and returns an error wrapping
	// aggregate.ErrConflict.
	ApplyPage(ctx context.Context, provider, from string, page aggregate.Page) (quarantined int, err error)
}

// Source is one provider the syncer keeps in step.
type Source struct {
	Name    string
	Dialect string
	URL     string // the descriptor's, for operators; it holds no credentials
	// Version changes when the provider's descriptor changes; a source with
	// a new version replaces the old one.
	Version string
	Source  provider.Source
}

// Set is the set of providers a Sync covers: the freshness guarantee's
// "every provider", not only those that can be synced now.
type Set struct {
	// Confirmed is true once the set is known to be whole: this replica has
	// read the providers from etcd at least once. Until then no Sync is
	// Complete, even over an empty set.
	Confirmed bool
	// Sources are the providers to sync.
	Sources []Source
	// Missing are the covered providers that cannot be synced now (not
	// registered, misconfigured), each reported with its status and
	// reason; a Sync with any of them is not Complete.
	Missing []Missing
}

// Missing is a covered provider that is not synced, and why.
type Missing struct {
	Name   string
	Status aggregate.SyncStatus // StatusUnavailable or StatusMisconfigured
	Reason string               // short, credential-free, for clients
}

// Options configure a Syncer.
type Options struct {
	Store  Store
	Tuning func() tuning.Tuning // the live settings; read at each round and page
	// Coalesce shares rounds between concurrent requests. Only benchmarks
	// turn it off: each request then runs a round of its own.
	Coalesce       bool
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// Syncer runs sync rounds for a changing set of providers.
type Syncer struct {
	opts    Options
	tracer  trace.Tracer
	metrics *metrics
	gate    *gate
	// failures keeps a provider's failed rounds to one log line an
	// interval: rounds follow requests, and a dead provider fails them all.
	failures *throttle.Throttle
	// ahead and merge are aheadPages and mergePages; for measuring what
	// they gain, ahead 0 fetches a page only once the one before is
	// stored, and merge 1 stores every page alone.
	ahead, merge int
	// aheadFull, when set, is called each time a round's fetching ahead
	// waits for its pages to be stored; tests watch it.
	aheadFull func()
	// maxPace is the constant maxPace; tests lengthen it.
	maxPace time.Duration

	mu        sync.Mutex
	confirmed bool
	providers map[string]*providerSync
	missing   []Missing
	// lastSynced is when each missing provider was last caught up on this
	// replica, for its lag; zero if never.
	lastSynced map[string]time.Time
}

// New returns a Syncer with an unconfirmed, empty set; see SetProviders.
func New(opts Options) (*Syncer, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Syncer{
		opts:       opts,
		tracer:     opts.TracerProvider.Tracer("xii/aggregator-svc/syncer"),
		gate:       newGate(opts.Tuning().MaxConcurrency),
		providers:  map[string]*providerSync{},
		lastSynced: map[string]time.Time{},
		failures:   throttle.New(logEvery),
		maxPace:    maxPace,
		ahead:      aheadPages,
		merge:      mergePages,
	}
	m, err := newMetrics(opts.MeterProvider, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// SetProviders replaces the covered set. Rounds already running for a
// removed or replaced provider finish for those waiting on them.
func (s *Syncer) SetProviders(set Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]*providerSync, len(set.Sources))
	for _, src := range set.Sources {
		if p, ok := s.providers[src.Name]; ok && p.src.Version == src.Version {
			next[src.Name] = p
			continue
		}
		p := newProviderSync(s, src)
		if old, ok := s.providers[src.Name]; ok {
			p.syncedAt = old.lastSyncedAt()
		} else {
			p.syncedAt = s.lastSynced[src.Name]
		}
		next[src.Name] = p
	}
	lastSynced := make(map[string]time.Time, len(set.Missing))
	for _, m := range set.Missing {
		if p, ok := s.providers[m.Name]; ok {
			lastSynced[m.Name] = p.lastSyncedAt()
		} else {
			lastSynced[m.Name] = s.lastSynced[m.Name]
		}
	}
	s.confirmed, s.providers, s.missing, s.lastSynced = set.Confirmed, next, slices.Clone(set.Missing), lastSynced
}

// Sync brings every current provider up to date, within ctx's deadline,
// and reports per provider how far it got. It never fails as a whole: a
// provider it could not sync is reported, and Complete is false.
func (s *Syncer) Sync(ctx context.Context) aggregate.SyncReport {
	s.gate.setLimit(s.opts.Tuning().MaxConcurrency)
	s.mu.Lock()
	ps := make([]*providerSync, 0, len(s.providers))
	for _, p := range s.providers {
		ps = append(ps, p)
	}
	confirmed, missing := s.confirmed, s.missing
	missingSince := maps.Clone(s.lastSynced)
	s.mu.Unlock()

	ctx, span := s.tracer.Start(ctx, "sync", trace.WithAttributes(
		attribute.Int("xii.providers", len(ps)+len(missing)),
		attribute.Bool("xii.providers.confirmed", confirmed)))
	defer span.End()

	type result struct {
		name string
		rep  aggregate.ProviderSync
	}
	results := make(chan result, len(ps))
	// When the slowest provider's round is expected to end, for pacing the
	// others; zero (no pacing) while any of them is failing.
	var finishBy time.Time
	if s.opts.Coalesce && len(ps) > 1 {
		now := time.Now()
		for _, p := range ps {
			done, ok := p.expectedDone(now)
			if !ok {
				finishBy = time.Time{}
				break
			}
			finishBy = maxTime(finishBy, done)
		}
	}
	for _, p := range ps {
		go func() { results <- result{p.src.Name, p.await(ctx, finishBy)} }()
	}
	rep := aggregate.SyncReport{Complete: confirmed, Providers: make(map[string]aggregate.ProviderSync, len(ps)+len(missing))}
	var incomplete []string
	for _, m := range missing {
		rep.Providers[m.Name] = missingReport(m, missingSince[m.Name])
		rep.Complete = false
		incomplete = append(incomplete, m.Name)
	}
	for range ps {
		r := <-results
		rep.Providers[r.name] = r.rep
		if r.rep.Status != xiiapi.StatusOK {
			rep.Complete = false
			incomplete = append(incomplete, r.name)
		}
	}
	slices.Sort(incomplete)
	span.SetAttributes(attribute.Bool("xii.sync.complete", rep.Complete), attribute.StringSlice("xii.sync.incomplete", incomplete))
	if !rep.Complete {
		span.SetStatus(codes.Error, "incomplete sync")
	}
	return rep
}

// Poll syncs every provider each poll interval while isLeader reports true,
// until ctx is done. It keeps the aggregate warm between requests.
func (s *Syncer) Poll(ctx context.Context, isLeader func() bool) {
	for {
		timer := time.NewTimer(s.opts.Tuning().PollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		if isLeader() {
			roundCtx, cancel := context.WithTimeout(ctx, backgroundTimeout)
			s.Sync(roundCtx)
			cancel()
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
