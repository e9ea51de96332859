// Package dashboard is dashboard-svc's domain: the public read API over the
// aggregated survey responses. It validates and shapes requests and leaves
// syncing and reading to the aggregator, which it reaches through the
// Aggregator interface.
//
// It imports no HTTP client: the aggregator client translates its failures
// into the errors defined here, and the transport maps those to statuses.
package dashboard

import (
	"context"
	"errors"
	"fmt"

	"xii/libs/xiiapi"
)

// Query limits, as the wire contract has them.
const (
	DefaultLimit = xiiapi.DefaultLimit
	MaxLimit     = xiiapi.MaxLimit
	MaxFilterLen = xiiapi.MaxFilterLen
	MaxCursorLen = xiiapi.MaxCursorLen
)

// GroupDimensions are what a stats query may group by.
var GroupDimensions = xiiapi.GroupDimensions

// Domain errors. The HTTP transport maps each to a status code.
var (
	// ErrInvalid wraps every validation failure; the message names the
	// parameter.
	ErrInvalid = xiiapi.ErrInvalid
	// ErrUnavailable: no aggregator replica is known, or none could be
	// reached or answered without a server error.
	ErrUnavailable = errors.New("aggregator unavailable")
	// ErrTimeout: the request's deadline passed before the aggregator
	// answered at all.
	ErrTimeout = errors.New("aggregator did not answer within the deadline")
	// ErrBadGateway: the aggregator answered something unusable.
	ErrBadGateway = errors.New("unusable answer from the aggregator")
)

// Filter restricts a read to responses whose fields equal the non-empty
// values and whose created_at is in [Since, Until) where those are set.
type Filter = xiiapi.Filter

// Query asks for one page of responses, newest first; Limit 0 means
// DefaultLimit. Its Validate checks the limit, the filter and the cursor's
// form; what the cursor points at only the aggregator can judge.
type Query = xiiapi.Query

// StatsQuery asks for counts per group of the filtered responses.
type StatsQuery = xiiapi.StatsQuery

// Aggregator syncs and reads the aggregate. Its methods return ErrInvalid
// when the aggregator rejects the query, ErrUnavailable, ErrTimeout,
// ErrBadGateway, or the context's error when ctx was cancelled.
type Aggregator interface {
	// Responses syncs every provider within ctx's deadline, then reads
	// one page. An incomplete sync is reported in Page.Sync, not an error.
	Responses(ctx context.Context, q Query) (Page, error)
	// ResponsesEncoded is Responses with the page as the aggregator
	// encoded it.
	ResponsesEncoded(ctx context.Context, q Query) (EncodedPage, error)
	// Stats syncs like Responses, then counts per group.
	Stats(ctx context.Context, q StatsQuery) (Stats, error)
	// Providers says what the aggregator knows of every covered provider,
	// and its settings in force, without syncing.
	Providers(ctx context.Context) (Providers, error)
}

// Service is what dashboard-svc offers.
type Service interface {
	// Responses returns one fresh page of responses. Errors: ErrInvalid and
	// those of Aggregator.
	Responses(ctx context.Context, q Query) (Page, error)
	// ResponsesEncoded is Responses with the page as the aggregator
	// encoded it, for answers that pass it on as it is.
	ResponsesEncoded(ctx context.Context, q Query) (EncodedPage, error)
	// Stats returns fresh counts per group. Errors: ErrInvalid and those
	// of Aggregator.
	Stats(ctx context.Context, q StatsQuery) (Stats, error)
	// Providers returns the providers' state and the aggregator's settings.
	// Errors: those of Aggregator.
	Providers(ctx context.Context) (Providers, error)
}

type service struct {
	agg Aggregator
}

// NewService returns the Service that reads through agg.
func NewService(agg Aggregator) Service {
	return &service{agg: agg}
}

func (s *service) Responses(ctx context.Context, q Query) (Page, error) {
	q, err := validQuery(q)
	if err != nil {
		return Page{}, err
	}
	p, err := s.agg.Responses(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("responses: %w", err)
	}
	return p, nil
}

func (s *service) ResponsesEncoded(ctx context.Context, q Query) (EncodedPage, error) {
	q, err := validQuery(q)
	if err != nil {
		return EncodedPage{}, err
	}
	p, err := s.agg.ResponsesEncoded(ctx, q)
	if err != nil {
		return EncodedPage{}, fmt.Errorf("responses: %w", err)
	}
	return p, nil
}

// validQuery returns q with its default limit, or why it is invalid.
func validQuery(q Query) (Query, error) {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	return q, q.Validate()
}

func (s *service) Providers(ctx context.Context) (Providers, error) {
	p, err := s.agg.Providers(ctx)
	if err != nil {
		return Providers{}, fmt.Errorf("providers: %w", err)
	}
	return p, nil
}

func (s *service) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	if err := q.Validate(); err != nil {
		return Stats{}, err
	}
	st, err := s.agg.Stats(ctx, q)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
