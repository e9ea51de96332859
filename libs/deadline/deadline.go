// Package deadline carries the deadline a request asked for from an HTTP
// decoder to the endpoint it runs: a transport decodes the request once,
// timeout included, and Endpoint applies the timeout and nothing else.
package deadline

import (
	"context"
	"time"

	"github.com/go-kit/kit/endpoint"
)

// Request is a decoded request with the time it may take.
type Request struct {
	Request any
	Timeout time.Duration
}

// Endpoint runs next under the deadline of each Request it is given, with
// the Request's own request. Anything else reaches next unchanged.
func Endpoint(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		r, ok := request.(Request)
		if !ok {
			return next(ctx, request)
		}
		ctx, cancel := context.WithTimeout(ctx, r.Timeout)
		defer cancel()
		return next(ctx, r.Request)
	}
}
