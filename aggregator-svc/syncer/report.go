package syncer

import (
	"context"
	"errors"
	"time"

	"xii/libs/xiiapi"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"xii/aggregator-svc/aggregate"

	"xii/aggregator-svc/provider"
)

// report turns a round's result into what one waiter is told.
func (p *providerSync) report(res roundResult) aggregate.ProviderSync {
	status := classify(res.err)
	p.mu.Lock()
	syncedAt, cursor := p.syncedAt, p.cursor
	p.mu.Unlock()
	rep := aggregate.ProviderSync{Status: status, Rows: res.rows, Pages: res.pages, Cursor: cursor, SyncedAt: syncedAt, Quarantined: res.quarantined,
		VisibleAfterMS: provider.VisibilityDelay(p.src.Dialect).Milliseconds()}
	if status != xiiapi.StatusOK {
		rep.Error = reason(res.err)
		if !syncedAt.IsZero() {
			rep.LagMS = time.Since(syncedAt).Milliseconds()
		}
	}
	return rep
}

// missingReport is what every waiter is told of a covered provider that is
// not synced; syncedAt is when it was last caught up, zero if never.
func missingReport(m Missing, syncedAt time.Time) aggregate.ProviderSync {
	rep := aggregate.ProviderSync{Status: m.Status, Error: m.Reason, SyncedAt: syncedAt}
	if !syncedAt.IsZero() {
		rep.LagMS = time.Since(syncedAt).Milliseconds()
	}
	return rep
}

// classify maps a round's error to its Status.
func classify(err error) aggregate.SyncStatus {
	switch {
	case err == nil:
		return xiiapi.StatusOK
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return xiiapi.StatusCircuitOpen
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return xiiapi.StatusTimeout
	case errors.Is(err, provider.ErrUnavailable), errors.Is(err, provider.ErrRateLimited):
		return xiiapi.StatusUnavailable
	}
	return xiiapi.StatusError
}

// reason is the short, credential-free text clients see for err; the full
// error goes to the log and the span.
func reason(err error) string {
	for _, known := range []error{
		provider.ErrUnauthorized, provider.ErrRateLimited, provider.ErrRejected, provider.ErrBadPage, provider.ErrUnavailable,
		aggregate.ErrRetired, gobreaker.ErrOpenState, gobreaker.ErrTooManyRequests,
	} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "not synced within the deadline"
	case errors.Is(err, context.Canceled):
		return "request cancelled"
	}
	return "internal error"
}

// attrs are the provider's metric attributes, made once: every request's
// wait is counted with them, and building a set hashes it.
func (p *providerSync) attrs() metric.MeasurementOption {
	return p.measured
}

func (p *providerSync) spanAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("xii.provider", p.src.Name),
		attribute.String("xii.dialect", p.src.Dialect),
	}
}
