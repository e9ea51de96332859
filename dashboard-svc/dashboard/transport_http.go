package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	kithttp "github.com/go-kit/kit/transport/http"
	"go.opentelemetry.io/otel/trace"

	"xii/libs/deadline"
	"xii/libs/httpjson"
	"xii/libs/httpserver"
	"xii/libs/xiiapi"
	"xii/libs/xiiapi/xiihttp"
)

// SyncCompleteHeader carries SyncReport.Complete on every answer of the
// API; error answers hold no data and say false.
const SyncCompleteHeader = xiiapi.SyncCompleteHeader

// HTTPOptions configure NewHTTPHandler.
type HTTPOptions struct {
	// Token, when set, is the bearer token every API route requires.
	Token string
	// Deadlines bound each request's deadline; zero fields take the
	// package defaults.
	Deadlines Deadlines
	// Logger receives errors the client only sees as a short message.
	Logger *slog.Logger
	// RateLimit limits each client's requests, before the token is
	// checked; zero means none.
	RateLimit httpserver.RateLimit
}

// NewHTTPHandler returns the routes of the public API, on an
// *http.ServeMux so that telemetry can name spans after its patterns:
//
//	GET /api/v1/responses  a fresh page: ?survey=&device=&location=&provider=&since=&until=&limit=&cursor=&timeout=
//	GET /api/v1/stats      fresh counts: ?group_by=device,location&<filters>&timeout=
//	GET /api/v1/reporter   the first prototype's plain array: ?<filters>&limit=&timeout=
//	GET /api/v1/providers  the providers' state and the aggregator's settings: ?timeout=
//	GET /api/v1/responses.csv  every matching response as CSV, streamed: ?<filters>&timeout=
//
// Each checks the token (if set), then the parameters, then runs under
// the request's deadline. Every answer, errors included, carries the
// request's trace id (TraceIDHeader) and Cache-Control: no-store.
func NewHTTPHandler(e Endpoints, opts HTTPOptions) *http.ServeMux {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	encodeError := errorEncoder(opts.Logger)
	serverOpts := []kithttp.ServerOption{kithttp.ServerErrorEncoder(encodeError)}
	dec := decoders{timeouts: opts.Deadlines.timeouts()}
	handlers := map[string]http.Handler{
		"/api/v1/responses": kithttp.NewServer(deadline.Endpoint(e.Encoded), dec.responses(responsesParams), encodeResponses(encodeError), serverOpts...),
		"/api/v1/stats":     kithttp.NewServer(deadline.Endpoint(e.Stats), dec.stats, encodeStats(encodeError), serverOpts...),
		"/api/v1/reporter":  kithttp.NewServer(deadline.Endpoint(e.Responses), dec.responses(reporterParams), encodeReporter(encodeError), serverOpts...),
		"/api/v1/providers": kithttp.NewServer(deadline.Endpoint(e.Providers), dec.providers, encodeProviders(encodeError), serverOpts...),
		"/api/v1/responses.csv": csvExport{
			responses: deadline.Endpoint(e.Responses), timeouts: dec.timeouts, encodeError: encodeError, logger: opts.Logger,
			pageSize: MaxLimit, maxRows: MaxExportRows,
		},
	}
	fail := func(w http.ResponseWriter, r *http.Request, err error) { encodeError(r.Context(), err, w) }
	limit := opts.RateLimit.Middleware(fail)
	return xiihttp.NewMux(Routes, func(rt xiihttp.Route) http.Handler {
		return answerHeaders(limit(requireToken(opts.Token, fail, handlers[rt.Path])))
	}, func(w http.ResponseWriter, r *http.Request, err error) {
		setAnswerHeaders(w, r)
		fail(w, r, err)
	})
}

// TraceIDHeader carries the trace id of the request's span on every
// answer of the API, so that a client (the web page's trace link) can
// find the request's trace; it is absent when tracing is off.
const TraceIDHeader = "X-Trace-Id"

// answerHeaders sets the headers every API answer carries before next
// writes it.
func answerHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setAnswerHeaders(w, r)
		next.ServeHTTP(w, r)
	})
}

// setAnswerHeaders: every answer is read after a sync made for it, so
// no cache may keep it; and it names its trace.
func setAnswerHeaders(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if sc := trace.SpanContextFromContext(r.Context()); sc.HasTraceID() {
		w.Header().Set(TraceIDHeader, sc.TraceID().String())
	}
}

// Routes are the routes NewHTTPHandler serves.
var Routes = []xiihttp.Route{
	{Method: "GET", Path: "/api/v1/responses"},
	{Method: "GET", Path: "/api/v1/stats"},
	{Method: "GET", Path: "/api/v1/reporter"},
	{Method: "GET", Path: "/api/v1/providers"},
	{Method: "GET", Path: "/api/v1/responses.csv"},
}

// Param sets: which query parameters each route accepts.
var (
	responsesParams = xiiapi.QueryParams
	statsParams     = xiiapi.StatsParams
	reporterParams  = append([]string{"limit", "timeout"}, xiiapi.FilterParams...)
	providersParams = []string{"timeout"}
	csvParams       = append([]string{"timeout"}, xiiapi.FilterParams...)
)

// decoders parse each request's query once, strictly, with the deadline
// it asks for; the endpoint then runs under that deadline, which covers
// the whole call and reaches the aggregator through the context.
type decoders struct {
	timeouts xiiapi.Timeouts
}

func (d decoders) responses(known []string) kithttp.DecodeRequestFunc {
	return func(_ context.Context, r *http.Request) (any, error) {
		v, timeout, err := xiihttp.ReadQuery(r, known, d.timeouts)
		if err != nil {
			return nil, err
		}
		q, err := xiiapi.ParseQuery(v)
		if err != nil {
			return nil, err
		}
		return deadline.Request{Request: ResponsesRequest{Query: q}, Timeout: timeout}, nil
	}
}

func (d decoders) providers(_ context.Context, r *http.Request) (any, error) {
	_, timeout, err := xiihttp.ReadQuery(r, providersParams, d.timeouts)
	if err != nil {
		return nil, err
	}
	return deadline.Request{Timeout: timeout}, nil
}

func (d decoders) stats(_ context.Context, r *http.Request) (any, error) {
	v, timeout, err := xiihttp.ReadQuery(r, statsParams, d.timeouts)
	if err != nil {
		return nil, err
	}
	q, err := xiiapi.ParseStatsQuery(v)
	if err != nil {
		return nil, err
	}
	return deadline.Request{Request: StatsRequest{Query: q}, Timeout: timeout}, nil
}

// encodeResponses writes the page as the aggregator encoded it: the
// contract's ResponsesBody is the same on both hops.
func encodeResponses(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(EncodedResponse)
		if resp.Err != nil {
			encodeError(ctx, resp.Err, w)
			return nil
		}
		xiihttp.SetSyncHeaders(w.Header(), resp.Page.Complete, resp.Page.Unsynced)
		return httpjson.WriteEncoded(w, http.StatusOK, resp.Page.Body)
	}
}

// encodeReporter writes a page as the plain JSON array the first
// prototype answered; the sync's completeness is only in the header.
func encodeReporter(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return xiihttp.EncodeSynced(encodeError, func(resp ResponsesResponse) (SyncReport, any) {
		return resp.Page.Sync, xiihttp.OrEmpty(resp.Page.Responses)
	})
}

func encodeStats(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return xiihttp.EncodeSynced(encodeError, func(resp StatsResponse) (SyncReport, any) {
		st, rep := resp.Stats, reportOrEmpty(resp.Stats.Sync)
		return st.Sync, xiiapi.StatsBody{Groups: xiihttp.OrEmpty(st.Groups), Total: st.Total, Truncated: st.Truncated, Sync: &rep}
	})
}

// encodeProviders writes the providers' state; it is no synced answer, so
// it says it holds no complete sync.
func encodeProviders(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(ProvidersResponse)
		if resp.Err != nil {
			encodeError(ctx, resp.Err, w)
			return nil
		}
		w.Header().Set(SyncCompleteHeader, "false")
		body := resp.Providers
		body.Providers, body.Settings, body.Rejected = xiihttp.OrEmpty(body.Providers), xiihttp.OrEmpty(body.Settings), xiihttp.OrEmpty(body.Rejected)
		return httpjson.Write(w, http.StatusOK, body)
	}
}

// reportOrEmpty keeps the providers an object, never null.
func reportOrEmpty(r SyncReport) SyncReport {
	if r.Providers == nil {
		r.Providers = map[string]ProviderSync{}
	}
	return r
}

// statusOf is the one table from errors to HTTP status, error code and,
// for server-side failures, the message the client sees instead of the
// error's own.
func statusOf(err error) (status int, code, public string) {
	if status, code, ok := xiihttp.StatusOf(err); ok {
		return status, code, ""
	}
	switch {
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, xiiapi.CodeUnauthorized, ""
	case errors.Is(err, httpserver.ErrRateLimited):
		return http.StatusTooManyRequests, xiiapi.CodeRateLimited, ""
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, xiiapi.CodeAggregatorUnavailable, "aggregator unavailable: no replica is known or reachable; retry shortly"
	case errors.Is(err, ErrBadGateway):
		return http.StatusBadGateway, xiiapi.CodeBadGateway, ErrBadGateway.Error()
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, xiiapi.CodeTimeout, "no answer from the aggregator within the request's deadline; a longer timeout may help"
	}
	return http.StatusInternalServerError, xiiapi.CodeInternal, http.StatusText(http.StatusInternalServerError)
}

// errorEncoder writes err as a JSON error answer; every answer of the API
// carries the sync header, and one without data was not complete.
func errorEncoder(logger *slog.Logger) kithttp.ErrorEncoder {
	return func(ctx context.Context, err error, w http.ResponseWriter) {
		status, code, msg := statusOf(err)
		if status >= 500 {
			logger.ErrorContext(ctx, "request failed", "err", err, "status", status)
		}
		if msg == "" {
			msg = err.Error()
		}
		w.Header().Set(SyncCompleteHeader, "false")
		if status == http.StatusServiceUnavailable {
			// No replica, or every one tried shed the call: come back soon.
			w.Header().Set("Retry-After", "1")
		}
		httpjson.Error(w, status, code, msg)
	}
}
