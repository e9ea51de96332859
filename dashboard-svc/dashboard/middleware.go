package dashboard

import (
	"context"
	"log/slog"
	"time"

	"xii/libs/throttle"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs answers whose sync was incomplete, naming the
// providers that missed it, at warn level, one line per set of missing
// providers every ten seconds (a dead provider misses every answer), and
// every answer at debug. Failures are logged once, where they become an
// HTTP status.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service {
		return loggingService{log: throttle.NewSyncLog(logger, 10*time.Second), next: next}
	}
}

type loggingService struct {
	log  *throttle.SyncLog
	next Service
}

func (s loggingService) Responses(ctx context.Context, q Query) (Page, error) {
	p, err := s.next.Responses(ctx, q)
	if err == nil {
		s.log.Answered(ctx, "responses", p.Sync, slog.Int("rows", len(p.Responses)))
	}
	return p, err
}

func (s loggingService) ResponsesEncoded(ctx context.Context, q Query) (EncodedPage, error) {
	p, err := s.next.ResponsesEncoded(ctx, q)
	if err == nil {
		s.log.AnsweredHeaders(ctx, "responses", p.Complete, p.Unsynced, slog.Int("bytes", len(p.Body)))
	}
	return p, err
}

func (s loggingService) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	st, err := s.next.Stats(ctx, q)
	if err == nil {
		s.log.Answered(ctx, "stats", st.Sync, slog.Int("groups", len(st.Groups)), slog.Int64("total", st.Total))
	}
	return st, err
}

func (s loggingService) Providers(ctx context.Context) (Providers, error) {
	return s.next.Providers(ctx)
}
