package survey

import (
	"context"
	"log/slog"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs each stored response and export page at debug
// level. Failures are logged once, where they become an HTTP status.
// Response texts are not logged: they are user data.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service {
		return loggingService{logger: logger, next: next}
	}
}

type loggingService struct {
	logger *slog.Logger
	next   Service
}

func (s loggingService) Submit(ctx context.Context, r NewResponse) (Response, error) {
	resp, err := s.next.Submit(ctx, r)
	if err == nil {
		s.logger.DebugContext(ctx, "response stored", "id", resp.ID, "survey", resp.Survey)
	}
	return resp, err
}

func (s loggingService) Export(ctx context.Context, q ExportQuery) (Page, error) {
	p, err := s.next.Export(ctx, q)
	if err == nil {
		s.logger.DebugContext(ctx, "export page", "rows", len(p.Responses), "has_more", p.HasMore)
	}
	return p, err
}
