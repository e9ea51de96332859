package dashboard

import (
	"context"

	"github.com/go-kit/kit/endpoint"
)

// Endpoints collects the service's endpoints, so each can be wrapped with
// middleware on its own.
type Endpoints struct {
	Responses endpoint.Endpoint
	// Encoded is Responses answering with the page as the aggregator
	// encoded it (EncodedResponse), for the JSON route.
	Encoded   endpoint.Endpoint
	Stats     endpoint.Endpoint
	Providers endpoint.Endpoint
}

// MakeEndpoints returns the endpoints of s.
func MakeEndpoints(s Service) Endpoints {
	return Endpoints{
		Responses: MakeResponsesEndpoint(s),
		Encoded:   MakeEncodedEndpoint(s),
		Stats:     MakeStatsEndpoint(s),
		Providers: MakeProvidersEndpoint(s),
	}
}

// Wrap applies mw to every endpoint, naming each for the middleware's sake.
func (e Endpoints) Wrap(mw func(name string) endpoint.Middleware) Endpoints {
	return Endpoints{
		Responses: mw("dashboard.Responses")(e.Responses),
		Encoded:   mw("dashboard.Responses")(e.Encoded),
		Stats:     mw("dashboard.Stats")(e.Stats),
		Providers: mw("dashboard.Providers")(e.Providers),
	}
}

// ResponsesRequest asks for one page of responses.
type ResponsesRequest struct {
	Query Query
}

// ResponsesResponse carries a page or the business error.
type ResponsesResponse struct {
	Page Page
	Err  error
}

// Failed implements endpoint.Failer.
func (r ResponsesResponse) Failed() error { return r.Err }

// MakeResponsesEndpoint returns an endpoint that calls s.Responses.
func MakeResponsesEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(ResponsesRequest)
		p, err := s.Responses(ctx, req.Query)
		return ResponsesResponse{Page: p, Err: err}, nil
	}
}

// EncodedResponse carries an encoded page or the business error.
type EncodedResponse struct {
	Page EncodedPage
	Err  error
}

// Failed implements endpoint.Failer.
func (r EncodedResponse) Failed() error { return r.Err }

// MakeEncodedEndpoint returns an endpoint that calls s.ResponsesEncoded;
// its request is a ResponsesRequest.
func MakeEncodedEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(ResponsesRequest)
		p, err := s.ResponsesEncoded(ctx, req.Query)
		return EncodedResponse{Page: p, Err: err}, nil
	}
}

// StatsRequest asks for counts per group.
type StatsRequest struct {
	Query StatsQuery
}

// StatsResponse carries the counts or the business error.
type StatsResponse struct {
	Stats Stats
	Err   error
}

// Failed implements endpoint.Failer.
func (r StatsResponse) Failed() error { return r.Err }

// MakeStatsEndpoint returns an endpoint that calls s.Stats.
func MakeStatsEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(StatsRequest)
		st, err := s.Stats(ctx, req.Query)
		return StatsResponse{Stats: st, Err: err}, nil
	}
}

// ProvidersResponse carries the providers' state or the business error.
type ProvidersResponse struct {
	Providers Providers
	Err       error
}

// Failed implements endpoint.Failer.
func (r ProvidersResponse) Failed() error { return r.Err }

// MakeProvidersEndpoint returns an endpoint that calls s.Providers.
func MakeProvidersEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, _ any) (any, error) {
		p, err := s.Providers(ctx)
		return ProvidersResponse{Providers: p, Err: err}, nil
	}
}

var (
	_ endpoint.Failer = ProvidersResponse{}
	_ endpoint.Failer = ResponsesResponse{}
	_ endpoint.Failer = EncodedResponse{}
	_ endpoint.Failer = StatsResponse{}
)
