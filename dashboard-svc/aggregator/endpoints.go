package aggregator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	kithttp "github.com/go-kit/kit/transport/http"

	"xii/dashboard-svc/dashboard"
	"xii/libs/deadline"
	"xii/libs/xiiapi"
)

// maxAnswerBytes bounds an aggregator answer: a full page of responses
// with the largest answers survey-svc accepts.
const maxAnswerBytes = 64 << 20

// The aggregator's answers, as the wire contract has them.
type (
	responsesBody xiiapi.ResponsesBody
	statsBody     xiiapi.StatsBody
	providersBody xiiapi.ProvidersBody
)

// answer is a decoded answer body; check says whether it is whole, and
// holds a sync report complete only where the header says so too.
type answer interface {
	check(h http.Header) error
}

// encodedAnswer is an answer kept as the aggregator encoded it: read takes
// the body's n bytes (-1: unknown) instead of a JSON decoder.
type encodedAnswer interface {
	answer
	read(body io.Reader, n int64) error
}

// encodedResponses is a responses answer passed through: its sync is
// what the headers say.
type encodedResponses dashboard.EncodedPage

func (e *encodedResponses) read(body io.Reader, n int64) error {
	if n > maxAnswerBytes {
		return fmt.Errorf("answer of %d bytes, more than %d", n, maxAnswerBytes)
	}
	if n >= 0 {
		e.Body = make([]byte, n)
		if _, err := io.ReadFull(body, e.Body); err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
	} else {
		b, err := io.ReadAll(io.LimitReader(body, maxAnswerBytes+1))
		if err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		if len(b) > maxAnswerBytes {
			return fmt.Errorf("answer of more than %d bytes", maxAnswerBytes)
		}
		e.Body = b
	}
	// Not decoded, but at least an object, not an empty or cut-off body.
	if len(e.Body) < 2 || e.Body[0] != '{' {
		return errors.New("answer is no JSON object")
	}
	return nil
}

// check takes the answer for complete only when the header says so, as
// checkSync does for a decoded one.
func (e *encodedResponses) check(h http.Header) error {
	e.Complete = h.Get(dashboard.SyncCompleteHeader) == "true"
	if missing := h.Get(xiiapi.SyncMissingHeader); !e.Complete && missing != "" {
		e.Unsynced = strings.Split(missing, ",")
	}
	return nil
}

func (b *responsesBody) check(h http.Header) error { return checkSync(b.Sync, h) }
func (b *statsBody) check(h http.Header) error     { return checkSync(b.Sync, h) }

func (b *providersBody) check(http.Header) error {
	if b.Providers == nil || b.Settings == nil {
		return errors.New("answer without providers or settings")
	}
	return nil
}

// checkSync refuses a missing sync report and takes a report for complete
// only when the header says so too.
func checkSync(rep *dashboard.SyncReport, h http.Header) error {
	if rep == nil {
		return errors.New("answer without a sync report")
	}
	if h.Get(dashboard.SyncCompleteHeader) != "true" {
		rep.Complete = false
	}
	return nil
}

// factory returns a go-kit sd.Factory that makes, for each replica's base
// URL, an endpoint calling GET path on it. The endpoint's request is the
// query's url.Values; its response is the answer newBody returns, decoded.
// Replicas that could not be reached are passed over for a while (see
// replicas.guard).
func factory(client *http.Client, token string, rs *replicas, reserve *deadline.Reserve, path string, newBody func() answer) sd.Factory {
	opts := []kithttp.ClientOption{kithttp.SetClient(client)}
	if token != "" {
		opts = append(opts, kithttp.ClientBefore(func(ctx context.Context, r *http.Request) context.Context {
			r.Header.Set("Authorization", "Bearer "+token)
			return ctx
		}))
	}
	return func(instance string) (endpoint.Endpoint, io.Closer, error) {
		base, err := parseInstance(instance)
		if err != nil {
			return nil, nil, err
		}
		c := kithttp.NewClient(http.MethodGet, base.JoinPath(path), encodeRequest, decodeAnswer(newBody), opts...)
		e, closer := rs.guard(instance, budgeted(reserve, c.Endpoint()))
		return e, closer, nil
	}
}

// parseInstance checks a replica's registered value: a base URL such as
// http://127.0.0.1:1110.
func parseInstance(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("aggregator instance %q: want a base URL such as http://127.0.0.1:1110", s)
	}
	return u, nil
}

// budgetKey carries, from budgeted to encodeRequest, the deadline one
// call gives the aggregator.
type budgetKey struct{}

// budgeted gives each call to the aggregator what is left of the
// request's deadline less the answer's reserve, and measures the answer's
// way back: how much later than that budget it arrived, decoded (when the
// deadline cut it off, the time until then). Under a
// starved CPU that grows, and so does the reserve, so that the aggregator
// still answers (perhaps incompletely) before the dashboard gives up.
func budgeted(reserve *deadline.Reserve, next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		d, ok := ctx.Deadline()
		if !ok {
			return next(ctx, request)
		}
		start := time.Now()
		left := d.Sub(start)
		budget := forwardBudget(left, reserve.Of(left))
		resp, err := next(context.WithValue(ctx, budgetKey{}, budget), request)
		// An answer the request's deadline cut off was at least that late;
		// one the client walked away from says nothing.
		if late := time.Since(start) - budget; late > 0 && !errors.Is(ctx.Err(), context.Canceled) {
			reserve.Observe(late)
		}
		return resp, err
	}
}

// encodeRequest sends the query and the call's budget (see budgeted), so
// the aggregator answers before the dashboard gives up.
func encodeRequest(ctx context.Context, r *http.Request, request any) error {
	r.URL.RawQuery = request.(url.Values).Encode()
	r.Header.Set("Accept", "application/json")
	if budget, ok := ctx.Value(budgetKey{}).(time.Duration); ok {
		if budget < xiiapi.AggregatorMinTimeout {
			return fmt.Errorf("%w: no time left to ask", dashboard.ErrTimeout)
		}
		r.Header.Set(dashboard.RequestTimeoutHeader, strconv.FormatInt(budget.Milliseconds(), 10)+"ms")
	}
	return nil
}

// forwardBudget is the deadline the aggregator gets when remaining is
// left and margin is the answer's reserve: never more than the aggregator
// accepts.
func forwardBudget(remaining, margin time.Duration) time.Duration {
	return min(remaining-margin, xiiapi.AggregatorMaxTimeout)
}

// decodeAnswer decodes a 200 answer, which must carry a sync report; other
// statuses become the errors of statusError. The body's completeness is
// trusted only when the X-Sync-Complete header agrees.
func decodeAnswer(newBody func() answer) kithttp.DecodeResponseFunc {
	return func(_ context.Context, r *http.Response) (any, error) {
		if r.StatusCode != http.StatusOK {
			return nil, statusError(r)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return nil, fmt.Errorf("%w: content type %q", dashboard.ErrBadGateway, r.Header.Get("Content-Type"))
		}
		body := newBody()
		if e, ok := body.(encodedAnswer); ok {
			if err := e.read(r.Body, r.ContentLength); err != nil {
				return nil, fmt.Errorf("%w: %w", dashboard.ErrBadGateway, err)
			}
		} else if err := json.NewDecoder(io.LimitReader(r.Body, maxAnswerBytes)).Decode(body); err != nil {
			return nil, fmt.Errorf("%w: decode answer: %w", dashboard.ErrBadGateway, err)
		}
		if err := body.check(r.Header); err != nil {
			return nil, fmt.Errorf("%w: %w", dashboard.ErrBadGateway, err)
		}
		return body, nil
	}
}
