package aggregator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/go-kit/kit/sd/lb"

	"xii/dashboard-svc/dashboard"
	"xii/libs/httpjson"
	"xii/libs/xiiapi"
)

// maxErrorBytes bounds how much of an error answer is read.
const maxErrorBytes = 4 << 10

// retryable marks a failure another replica may not have: the replica
// could not be reached, or answered with a server error.
type retryable struct{ err error }

func (e retryable) Error() string { return e.err.Error() }
func (e retryable) Unwrap() error { return e.err }

// statusError turns a non-200 answer into a domain error, by the wire
// error code (the status only where the body has none):
//
//	invalid_request   ErrInvalid, with the aggregator's message
//	timeout           ErrTimeout: it used the whole deadline it was given
//	500               ErrBadGateway, not retried: the replica failed on this
//	                  request, and another would fail the same way
//	any other 5xx     ErrUnavailable, retryable (a proxy's 502, a draining
//	                  replica's 503)
//	anything else     ErrBadGateway: the two disagree about the API
func statusError(r *http.Response) error {
	var body httpjson.ErrorBody
	raw, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBytes))
	if json.Unmarshal(raw, &body) != nil || body.Error == "" {
		body.Error = http.StatusText(r.StatusCode)
	}
	switch {
	case body.Code == xiiapi.CodeInvalidRequest:
		return upstreamInvalid{body.Error}
	case body.Code == xiiapi.CodeTimeout:
		return fmt.Errorf("%w: status %d: %s", dashboard.ErrTimeout, r.StatusCode, body.Error)
	case r.StatusCode == http.StatusInternalServerError:
		return fmt.Errorf("%w: status %d: %s", dashboard.ErrBadGateway, r.StatusCode, body.Error)
	case r.StatusCode >= 500:
		return retryable{fmt.Errorf("%w: status %d: %s", dashboard.ErrUnavailable, r.StatusCode, body.Error)}
	}
	return fmt.Errorf("%w: status %d, code %q: %s", dashboard.ErrBadGateway, r.StatusCode, body.Code, body.Error)
}

// upstreamInvalid is the aggregator's invalid_request: an ErrInvalid
// whose message is the aggregator's own, as it is.
type upstreamInvalid struct{ msg string }

func (e upstreamInvalid) Error() string        { return e.msg + " (from the aggregator)" }
func (e upstreamInvalid) Is(target error) bool { return target == dashboard.ErrInvalid }

// classify gives every error of one attempt its domain meaning. Errors
// the decoders made are already classified; the context's own errors stay
// as they are; what remains comes from the HTTP client or the balancer.
func classify(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, lb.ErrNoEndpoints):
		return fmt.Errorf("%w: no replica registered", dashboard.ErrUnavailable)
	case errors.Is(err, dashboard.ErrInvalid), errors.Is(err, dashboard.ErrUnavailable),
		errors.Is(err, dashboard.ErrTimeout), errors.Is(err, dashboard.ErrBadGateway):
		return err
	}
	// Refused, reset or unresolvable: the replica is down or going away.
	return retryable{fmt.Errorf("%w: %w", dashboard.ErrUnavailable, err)}
}

// retryPolicy is the lb.Callback of a call: it tries another replica after
// a retryable failure, at most attempts times in all; never after a
// client error, a timeout or an unusable answer.
func retryPolicy(attempts int) lb.Callback {
	return func(n int, err error) (bool, error) {
		err = classify(err)
		var r retryable
		return n < attempts && errors.As(err, &r), err
	}
}

// callError is the error a call returns: the context's when it is done
// (the client went away or the deadline passed), else the last attempt's.
func callError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var re lb.RetryError
	if errors.As(err, &re) && re.Final != nil {
		err = re.Final
	}
	return classify(err)
}
