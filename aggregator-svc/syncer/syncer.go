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
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/provider"
	"xii/aggregator-svc/tuning"
)

// backgroundTimeout bounds a round no caller set a deadline for (polling).
const backgroundTimeout = 30 * time.Second

// Store is where synced pages go.
type Store interface {
	// Cursor returns the provider's stored cursor, "" before its first page.
	Cursor(ctx context.Context, provider string) (string, error)
	// ApplyPage stores page and moves the provider's cursor from `from` to
	// page.Next in one transaction. If the stored cursor is no longer from,
	// it writes nothing and returns an error wrapping aggregate.ErrConflict.
	ApplyPage(ctx context.Context, provider, from string, page provider.Page) error
}

// Source is one provider the syncer keeps in step.
type Source struct {
	Name    string
	Dialect string
	// Version changes when the provider's descriptor changes; a source with
	// a new version replaces the old one.
	Version string
	Source  provider.Source
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

	mu        sync.Mutex
	providers map[string]*providerSync
}

// New returns a Syncer with no providers; see SetSources.
func New(opts Options) (*Syncer, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Syncer{
		opts:      opts,
		tracer:    opts.TracerProvider.Tracer("xii/aggregator-svc/syncer"),
		gate:      newGate(opts.Tuning().MaxConcurrency),
		providers: map[string]*providerSync{},
	}
	m, err := newMetrics(opts.MeterProvider, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// SetSources replaces the set of providers. Rounds already running for a
// removed or replaced provider finish for those waiting on them.
func (s *Syncer) SetSources(sources []Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]*providerSync, len(sources))
	for _, src := range sources {
		if p, ok := s.providers[src.Name]; ok && p.src.Version == src.Version {
			next[src.Name] = p
			continue
		}
		next[src.Name] = newProviderSync(s, src)
	}
	s.providers = next
}

// Providers returns the names of the current providers.
func (s *Syncer) Providers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.providers))
	for name := range s.providers {
		names = append(names, name)
	}
	return names
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
	s.mu.Unlock()

	ctx, span := s.tracer.Start(ctx, "sync", trace.WithAttributes(attribute.Int("xii.providers", len(ps))))
	defer span.End()

	type result struct {
		name string
		rep  aggregate.ProviderSync
	}
	results := make(chan result, len(ps))
	for _, p := range ps {
		go func() { results <- result{p.src.Name, p.await(ctx)} }()
	}
	rep := aggregate.SyncReport{Complete: true, Providers: make(map[string]aggregate.ProviderSync, len(ps))}
	var incomplete []string
	for range ps {
		r := <-results
		rep.Providers[r.name] = r.rep
		if r.rep.Status != aggregate.StatusOK {
			rep.Complete = false
			incomplete = append(incomplete, r.name)
		}
	}
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
