package aggregate

import (
	"context"

	"github.com/go-kit/kit/endpoint"
)

// Endpoints collects the service's endpoints.
type Endpoints struct {
	Query     endpoint.Endpoint
	Stats     endpoint.Endpoint
	Sync      endpoint.Endpoint
	Providers endpoint.Endpoint
}

// MakeEndpoints returns the endpoints of s.
func MakeEndpoints(s Service) Endpoints {
	return Endpoints{
		Query: func(ctx context.Context, request any) (any, error) {
			r, err := s.Query(ctx, request.(Query))
			return QueryResponse{Result: r, Err: err}, nil
		},
		Stats: func(ctx context.Context, request any) (any, error) {
			r, err := s.Stats(ctx, request.(StatsQuery))
			return StatsResponse{Result: r, Err: err}, nil
		},
		Sync: func(ctx context.Context, _ any) (any, error) {
			return SyncResponse{Report: s.Sync(ctx)}, nil
		},
		Providers: func(ctx context.Context, _ any) (any, error) {
			return s.Providers(ctx), nil
		},
	}
}

// Wrap applies mw to every endpoint, naming each.
func (e Endpoints) Wrap(mw func(name string) endpoint.Middleware) Endpoints {
	return Endpoints{
		Query:     mw("aggregate.Query")(e.Query),
		Stats:     mw("aggregate.Stats")(e.Stats),
		Sync:      mw("aggregate.Sync")(e.Sync),
		Providers: mw("aggregate.Providers")(e.Providers),
	}
}

// QueryResponse carries a query's result or its business error.
type QueryResponse struct {
	Result QueryResult
	Err    error
}

// Failed implements endpoint.Failer.
func (r QueryResponse) Failed() error { return r.Err }

// StatsResponse carries a stats result or its business error.
type StatsResponse struct {
	Result StatsResult
	Err    error
}

// Failed implements endpoint.Failer.
func (r StatsResponse) Failed() error { return r.Err }

// SyncResponse carries a sync's report.
type SyncResponse struct {
	Report SyncReport
}

// Failed implements endpoint.Failer; a sync never fails as a whole.
func (r SyncResponse) Failed() error { return nil }

var (
	_ endpoint.Failer = QueryResponse{}
	_ endpoint.Failer = StatsResponse{}
	_ endpoint.Failer = SyncResponse{}
)
