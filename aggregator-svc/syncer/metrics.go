package syncer

import (
	"context"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"xii/aggregator-svc/aggregate"
)

// metrics are the syncer's instruments. Requests served per round (the
// coalescing ratio) is xii_sync_waiters_total / xii_sync_rounds_total.
type metrics struct {
	fetchDuration metric.Float64Histogram
	rounds        metric.Int64Counter
	waiters       metric.Int64Counter
	rows          metric.Int64Counter
}

func newMetrics(mp metric.MeterProvider, s *Syncer) (*metrics, error) {
	meter := mp.Meter("xii/aggregator-svc/syncer")
	var m metrics
	var err error
	if m.fetchDuration, err = meter.Float64Histogram("xii.fetch.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of page fetches from providers, by provider and status."),
		metric.WithExplicitBucketBoundaries(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)); err != nil {
		return nil, err
	}
	if m.rounds, err = meter.Int64Counter("xii.sync.rounds", metric.WithDescription("Sync rounds run, by provider and status.")); err != nil {
		return nil, err
	}
	if m.waiters, err = meter.Int64Counter("xii.sync.waiters", metric.WithDescription("Requests that waited for a provider's round.")); err != nil {
		return nil, err
	}
	if m.rows, err = meter.Int64Counter("xii.sync.rows", metric.WithDescription("Records fetched and stored, by provider.")); err != nil {
		return nil, err
	}
	lag, err := meter.Float64ObservableGauge("xii.sync.lag", metric.WithUnit("s"),
		metric.WithDescription("Time since the provider was last caught up."))
	if err != nil {
		return nil, err
	}
	breaker, err := meter.Int64ObservableGauge("xii.breaker.state",
		metric.WithDescription("Circuit breaker state per provider: 0 closed, 1 half-open, 2 open."))
	if err != nil {
		return nil, err
	}
	quarantined, err := meter.Int64ObservableGauge("xii.sync.quarantined",
		metric.WithDescription("Records of the provider set aside because the aggregate cannot hold them, by provider."))
	if err != nil {
		return nil, err
	}
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for name, p := range s.providers {
			attrs := metric.WithAttributes(attribute.String("provider", name))
			p.mu.Lock()
			syncedAt, q := p.syncedAt, p.quarantined
			p.mu.Unlock()
			o.ObserveInt64(quarantined, int64(q), attrs)
			if !syncedAt.IsZero() {
				o.ObserveFloat64(lag, time.Since(syncedAt).Seconds(), attrs)
			}
			o.ObserveInt64(breaker, breakerState(p.breaker.State()), attrs)
		}
		for name, syncedAt := range s.lastSynced { // covered, not synced now
			if !syncedAt.IsZero() {
				o.ObserveFloat64(lag, time.Since(syncedAt).Seconds(), metric.WithAttributes(attribute.String("provider", name)))
			}
		}
		return nil
	}, lag, breaker, quarantined)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func breakerState(s gobreaker.State) int64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}

func (m *metrics) recordFetch(ctx context.Context, p *providerSync, d time.Duration, status aggregate.SyncStatus) {
	m.fetchDuration.Record(ctx, d.Seconds(), metric.WithAttributes(
		attribute.String("provider", p.src.Name), attribute.String("status", string(status))))
}

func (m *metrics) recordRound(ctx context.Context, p *providerSync, status aggregate.SyncStatus, rows int) {
	m.rounds.Add(ctx, 1, metric.WithAttributes(
		attribute.String("provider", p.src.Name), attribute.String("status", string(status))))
	m.rows.Add(ctx, int64(rows), p.attrs())
}
