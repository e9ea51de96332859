package survey

import (
	"context"

	"github.com/go-kit/kit/endpoint"
)

// Endpoints collects the service's endpoints, so each can be wrapped with
// middleware on its own.
type Endpoints struct {
	Submit endpoint.Endpoint
	Export endpoint.Endpoint
}

// MakeEndpoints returns the endpoints of s.
func MakeEndpoints(s Service) Endpoints {
	return Endpoints{
		Submit: MakeSubmitEndpoint(s),
		Export: MakeExportEndpoint(s),
	}
}

// Wrap applies mw to every endpoint, naming each for the middleware's sake.
func (e Endpoints) Wrap(mw func(name string) endpoint.Middleware) Endpoints {
	return Endpoints{
		Submit: mw("survey.Submit")(e.Submit),
		Export: mw("survey.Export")(e.Export),
	}
}

// SubmitRequest carries one response to store.
type SubmitRequest struct {
	Response NewResponse
}

// SubmitResponse carries the stored response or the business error.
type SubmitResponse struct {
	Response Response
	Err      error
}

// Failed implements endpoint.Failer.
func (r SubmitResponse) Failed() error { return r.Err }

// MakeSubmitEndpoint returns an endpoint that calls s.Submit.
func MakeSubmitEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(SubmitRequest)
		r, err := s.Submit(ctx, req.Response)
		return SubmitResponse{Response: r, Err: err}, nil
	}
}

// ExportRequest asks for one export page.
type ExportRequest struct {
	Query ExportQuery
}

// ExportResponse carries one export page or the business error.
type ExportResponse struct {
	Page Page
	Err  error
}

// Failed implements endpoint.Failer.
func (r ExportResponse) Failed() error { return r.Err }

// MakeExportEndpoint returns an endpoint that calls s.Export.
func MakeExportEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(ExportRequest)
		p, err := s.Export(ctx, req.Query)
		return ExportResponse{Page: p, Err: err}, nil
	}
}

var (
	_ endpoint.Failer = SubmitResponse{}
	_ endpoint.Failer = ExportResponse{}
)
