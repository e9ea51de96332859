package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	kithttp "github.com/go-kit/kit/transport/http"

	"xii/libs/httpjson"
	"xii/libs/xiiapi"
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
}

// Wire formats of the answers.
type (
	// ResponsesBody is the answer of GET /api/v1/responses.
	ResponsesBody struct {
		Data       []Response `json:"data"`
		NextCursor string     `json:"next_cursor"`
		Sync       SyncReport `json:"sync"`
	}
	// StatsBody is the answer of GET /api/v1/stats.
	StatsBody struct {
		Groups []Group    `json:"groups"`
		Total  int64      `json:"total"`
		Sync   SyncReport `json:"sync"`
	}
)

// Transport errors, mapped with the domain errors in statusOf.
var (
	errNotFound         = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed")
)

// NewHTTPHandler returns the routes of the public API, on an
// *http.ServeMux so that telemetry can name spans after its patterns:
//
//	GET /api/v1/responses  a fresh page: ?survey=&device=&location=&provider=&since=&until=&limit=&cursor=&timeout=
//	GET /api/v1/stats      fresh counts: ?group_by=device,location&<filters>&timeout=
//	GET /api/v1/reporter   the first prototype's plain array: ?<filters>&limit=&timeout=
//
// Each checks the token (if set), then the parameters, then runs under
// the request's deadline.
func NewHTTPHandler(e Endpoints, opts HTTPOptions) *http.ServeMux {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := opts.Deadlines.withDefaults()
	encodeError := errorEncoder(opts.Logger)
	fail := func(w http.ResponseWriter, r *http.Request, err error) { encodeError(r.Context(), err, w) }
	serverOpts := []kithttp.ServerOption{kithttp.ServerErrorEncoder(encodeError)}
	route := func(known []string, h http.Handler) http.Handler {
		return requireToken(opts.Token, fail, withDeadline(d, known, fail, h))
	}

	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/responses", route(responsesParams,
		kithttp.NewServer(e.Responses, decodeResponsesRequest, encodeResponses(encodeError), serverOpts...)))
	mux.Handle("GET /api/v1/stats", route(statsParams,
		kithttp.NewServer(e.Stats, decodeStatsRequest, encodeStats(encodeError), serverOpts...)))
	mux.Handle("GET /api/v1/reporter", route(reporterParams,
		kithttp.NewServer(e.Responses, decodeResponsesRequest, encodeReporter(encodeError), serverOpts...)))
	// Method-less patterns are less specific than the ones above, so they
	// only catch the wrong methods on known paths.
	for _, path := range []string{"/api/v1/responses", "/api/v1/stats", "/api/v1/reporter"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			fail(w, r, errMethodNotAllowed)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fail(w, r, errNotFound) })
	return mux
}

// The decoders read parameters withDeadline has already checked.

func decodeResponsesRequest(_ context.Context, r *http.Request) (any, error) {
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return ResponsesRequest{Query: q}, nil
}

func decodeStatsRequest(_ context.Context, r *http.Request) (any, error) {
	q, err := ParseStatsQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return StatsRequest{Query: q}, nil
}

func encodeResponses(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(ResponsesResponse)
		if resp.Err != nil {
			encodeError(ctx, resp.Err, w)
			return nil
		}
		p := resp.Page
		return writeSynced(w, p.Sync, ResponsesBody{Data: orEmpty(p.Responses), NextCursor: p.NextCursor, Sync: reportOrEmpty(p.Sync)})
	}
}

// encodeReporter writes a page as the plain JSON array the first
// prototype answered; the sync's completeness is only in the header.
func encodeReporter(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(ResponsesResponse)
		if resp.Err != nil {
			encodeError(ctx, resp.Err, w)
			return nil
		}
		return writeSynced(w, resp.Page.Sync, orEmpty(resp.Page.Responses))
	}
}

func encodeStats(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(StatsResponse)
		if resp.Err != nil {
			encodeError(ctx, resp.Err, w)
			return nil
		}
		st := resp.Stats
		return writeSynced(w, st.Sync, StatsBody{Groups: orEmpty(st.Groups), Total: st.Total, Sync: reportOrEmpty(st.Sync)})
	}
}

// writeSynced writes body with the sync's completeness in the header.
func writeSynced(w http.ResponseWriter, rep SyncReport, body any) error {
	w.Header().Set(SyncCompleteHeader, strconv.FormatBool(rep.Complete))
	return httpjson.Write(w, http.StatusOK, body)
}

// orEmpty keeps answers free of JSON nulls where lists are expected.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
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
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, xiiapi.CodeInvalidRequest, ""
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, xiiapi.CodeUnauthorized, ""
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, xiiapi.CodeNotFound, ""
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, xiiapi.CodeMethodNotAllowed, ""
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, xiiapi.CodeAggregatorUnavailable, "aggregator unavailable: no replica is known or reachable; retry shortly"
	case errors.Is(err, ErrBadGateway):
		return http.StatusBadGateway, xiiapi.CodeBadGateway, ErrBadGateway.Error()
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, xiiapi.CodeTimeout, "no answer from the aggregator within the request's deadline; a longer timeout may help"
	case errors.Is(err, context.Canceled):
		return 499, xiiapi.CodeCanceled, "request canceled" // the client went away; nobody reads this
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
		httpjson.Error(w, status, code, msg)
	}
}
