package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/time/rate"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/provider"
	"xii/aggregator-svc/syncer"
	"xii/aggregator-svc/tuning"
	"xii/aggregator-svc/watch"
	"xii/libs/discovery"
	"xii/libs/xiiapi"
	"xii/observability"
)

// storeWriter adapts the store to the syncer, which needs of the apply
// counts only the quarantined one.
type storeWriter struct{ *postgres.Store }

func (w storeWriter) ApplyPage(ctx context.Context, name, from string, page provider.Page) (int, error) {
	applied, err := w.Store.ApplyPage(ctx, name, from, page)
	return applied.Quarantined, err
}

// sourceBuilder turns etcd's provider descriptors into the syncer's sources.
type sourceBuilder struct {
	client       *http.Client // to our own survey-svc instances: trace context propagated
	external     *http.Client // to other parties' APIs: nothing of ours in the headers
	tokens       map[string]provider.Credential
	maxPageBytes int64
	logger       *slog.Logger
	meters       metric.MeterProvider

	mu sync.Mutex
	// limiters pace the typeform and alchemer sources by token: both
	// providers limit requests per token (account), not per form or survey.
	limiters map[string]*rate.Limiter
}

func newSourceBuilder(cfg config, tel *observability.Telemetry, logger *slog.Logger) *sourceBuilder {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	// Under survey-svc's idle timeout, so the client is the one to close.
	transport.IdleConnTimeout = 20 * time.Second
	transport.ResponseHeaderTimeout = time.Minute // the request's context is the real bound
	return &sourceBuilder{
		client: &http.Client{Transport: tel.Transport(transport)},
		// Query-string credentials (Alchemer's) are added below the tracing
		// transport, so that no span records them.
		external:     &http.Client{Transport: tel.ExternalTransport(provider.QueryAuthTransport(transport))},
		tokens:       cfg.ProviderTokens,
		maxPageBytes: cfg.MaxPageBytes,
		logger:       logger,
		meters:       tel.MeterProvider,
		limiters:     map[string]*rate.Limiter{},
	}
}

// limiter is the limiter shared by the sources of dialect that use token;
// nil for a dialect without one, or without a token.
func (b *sourceBuilder) limiter(dialect, token string) *rate.Limiter {
	var fresh func() *rate.Limiter
	switch dialect {
	case provider.DialectTypeform:
		fresh = provider.NewTypeformLimiter
	case provider.DialectAlchemer:
		fresh = provider.NewAlchemerLimiter
	default:
		return nil
	}
	if token == "" {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	key := dialect + "\x00" + token
	if l, ok := b.limiters[key]; ok {
		return l
	}
	l := fresh()
	b.limiters[key] = l
	return l
}

// build returns the source of the provider name described by d; an error
// makes the provider misconfigured and is shown to clients, so it never
// holds a token.
func (b *sourceBuilder) build(name string, d discovery.Descriptor) (syncer.Source, error) {
	client := b.external
	if d.Dialect == provider.DialectXII {
		client = b.client
	}
	cred := b.tokens[name]
	src, err := provider.New(name, d, provider.Options{
		HTTPClient:    client,
		Credential:    cred,
		MaxPageBytes:  b.maxPageBytes,
		Limiter:       b.limiter(d.Dialect, cred.Token),
		Logger:        b.logger,
		MeterProvider: b.meters,
	})
	if err != nil {
		return syncer.Source{}, err
	}
	return syncer.Source{Name: name, Dialect: d.Dialect, URL: d.URL, Version: d.Dialect + " " + d.URL, Source: src}, nil
}

// operations reports the syncer's providers, the live settings and the
// provider keys refused.
type operations struct {
	syncer   *syncer.Syncer
	live     *tuning.Live
	rejected *watch.Rejected
}

func (o operations) Providers() aggregate.Providers {
	now := time.Now()
	out := aggregate.Providers{Providers: []xiiapi.ProviderInfo{}, Settings: []xiiapi.Setting{}, Rejected: []xiiapi.RejectedKey{}}
	for _, p := range o.syncer.Providers() {
		info := xiiapi.ProviderInfo{
			Name: p.Name, Dialect: p.Dialect, URL: masked(p.URL), Status: p.Status, Error: p.Error,
			LastRound: p.LastRound, SyncedAt: p.SyncedAt, Breaker: p.Breaker, Quarantined: p.Quarantined,
			VisibleAfterMS: provider.VisibilityDelay(p.Dialect).Milliseconds(),
		}
		if !p.SyncedAt.IsZero() {
			info.LagMS = now.Sub(p.SyncedAt).Milliseconds()
		}
		out.Providers = append(out.Providers, info)
	}
	for _, s := range o.live.Settings() {
		out.Settings = append(out.Settings, xiiapi.Setting{Key: s.Key, Value: s.Value, FromEtcd: s.FromEtcd, Rejected: s.Rejected, Reason: s.Reason})
	}
	for _, k := range o.rejected.List() {
		out.Rejected = append(out.Rejected, xiiapi.RejectedKey{Key: k.Key, Value: k.Value, Reason: k.Reason})
	}
	return out
}

// masked is raw with any credentials in it masked; descriptors hold none,
// but an operator's view must not be the one place that shows them.
func masked(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if q := u.Query(); len(q) > 0 {
		for k := range q {
			q.Set(k, "xxxxx")
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// countPageCache exports the page cache's reads as
// xii_page_cache_reads_total{result="hit"|"miss"}.
func countPageCache(mp metric.MeterProvider, c *aggregate.PageCache) error {
	hit, miss := metric.WithAttributes(attribute.String("result", "hit")), metric.WithAttributes(attribute.String("result", "miss"))
	_, err := mp.Meter("xii/aggregator-svc/aggregate").Int64ObservableCounter("xii.page_cache.reads",
		metric.WithDescription("Page reads answered from a page kept since no response changed (hit), or read from the aggregate (miss)."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			hits, misses := c.Counts()
			o.Observe(int64(hits), hit)
			o.Observe(int64(misses), miss)
			return nil
		}))
	if err != nil {
		return fmt.Errorf("page cache metrics: %w", err)
	}
	return nil
}
