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
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	kithttp "github.com/go-kit/kit/transport/http"

	"xii/dashboard-svc/dashboard"
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
func factory(client *http.Client, token string, rs *replicas, path string, newBody func() answer) sd.Factory {
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
		e, closer := rs.guard(instance, c.Endpoint())
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

// encodeRequest sends the query and what is left of the request's
// deadline, less a margin for the answer's way back, so the aggregator
// answers (perhaps with an incomplete sync) before the dashboard gives up.
func encodeRequest(ctx context.Context, r *http.Request, request any) error {
	r.URL.RawQuery = request.(url.Values).Encode()
	r.Header.Set("Accept", "application/json")
	if d, ok := ctx.Deadline(); ok {
		budget := forwardBudget(time.Until(d))
		if budget < xiiapi.AggregatorMinTimeout {
			return fmt.Errorf("%w: no time left to ask", dashboard.ErrTimeout)
		}
		r.Header.Set(dashboard.RequestTimeoutHeader, strconv.FormatInt(budget.Milliseconds(), 10)+"ms")
	}
	return nil
}

// forwardBudget is the deadline the aggregator gets when remaining is
// left: a tenth less, at least 5ms and at most 100ms less, and never more
// than the aggregator accepts.
func forwardBudget(remaining time.Duration) time.Duration {
	margin := min(max(remaining/10, 5*time.Millisecond), 100*time.Millisecond)
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
		if err := json.NewDecoder(io.LimitReader(r.Body, maxAnswerBytes)).Decode(body); err != nil {
			return nil, fmt.Errorf("%w: decode answer: %w", dashboard.ErrBadGateway, err)
		}
		if err := body.check(r.Header); err != nil {
			return nil, fmt.Errorf("%w: %w", dashboard.ErrBadGateway, err)
		}
		return body, nil
	}
}
