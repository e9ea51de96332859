package survey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"

	kithttp "github.com/go-kit/kit/transport/http"

	"xii/libs/httpjson"
	"xii/libs/httpserver"
)

// DefaultMaxBodyBytes bounds a submitted response's request body.
const DefaultMaxBodyBytes = 64 << 10

// HTTPOptions configure NewHTTPHandler.
type HTTPOptions struct {
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	MaxBodyBytes int64
	// ExportToken, when set, is the bearer token the export API requires.
	ExportToken string
	// Logger receives errors the client only sees as "internal error".
	Logger *slog.Logger
	// SubmitLimit limits each client's submissions; zero means none. The
	// export is the aggregator's and is not limited.
	SubmitLimit httpserver.RateLimit
}

// Transport errors, mapped with the domain errors in statusOf.
var (
	errBodyTooLarge     = errors.New("request body too large")
	errBodyTimeout      = errors.New("request body not received in time")
	errUnsupportedMedia = errors.New("content type must be application/json")
	errNotFound         = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed")
)

// NewHTTPHandler returns the routes of survey-svc's API:
//
//	POST /api/v1/responses   store one response (201 with the stored record)
//	POST /api/v1/reporter    the same, under the name the first prototype used
//	GET  /api/v1/responses   export a page: ?after=&rescan=&limit=&survey=&device=&location=
func NewHTTPHandler(e Endpoints, opts HTTPOptions) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	serverOpts := []kithttp.ServerOption{
		kithttp.ServerErrorEncoder(errorEncoder(opts.Logger)),
	}
	submit := kithttp.NewServer(e.Submit, decodeSubmitRequest(opts.MaxBodyBytes), encodeSubmitResponse(opts.Logger), serverOpts...)
	export := kithttp.NewServer(e.Export, decodeExportRequest, encodeExportResponse(opts.Logger), serverOpts...)

	mux := http.NewServeMux()
	allow := map[string][]string{}
	limit := opts.SubmitLimit.Middleware(func(w http.ResponseWriter, r *http.Request, err error) {
		errorEncoder(opts.Logger)(r.Context(), err, w)
	})
	for _, r := range routes(limit(submit), requireToken(opts.ExportToken, opts.Logger, export)) {
		mux.Handle(r.Method+" "+r.Path, r.handler)
		allow[r.Path] = append(allow[r.Path], r.Method)
	}
	// Method-less patterns are less specific than the ones above, so they
	// only catch the wrong methods on known paths.
	for path, methods := range allow {
		slices.Sort(methods)
		mux.Handle(path, errorHandler(opts.Logger, errMethodNotAllowed, strings.Join(methods, ", ")))
	}
	mux.Handle("/", errorHandler(opts.Logger, errNotFound, ""))
	return mux
}

// Route is one method and path of the API.
type Route struct {
	Method, Path string
}

// Routes returns the routes NewHTTPHandler serves, in the order it
// registers them.
func Routes() []Route {
	var out []Route
	for _, r := range routes(nil, nil) {
		out = append(out, r.Route)
	}
	return out
}

// route is a Route with its handler.
type route struct {
	Route
	handler http.Handler
}

// routes is the one table of the API's routes: NewHTTPHandler registers
// exactly these, so Routes cannot drift from what is served.
func routes(submit, export http.Handler) []route {
	return []route{
		{Route{http.MethodPost, "/api/v1/responses"}, submit},
		{Route{http.MethodPost, "/api/v1/reporter"}, submit},
		{Route{http.MethodGet, "/api/v1/responses"}, export},
	}
}

func decodeSubmitRequest(maxBody int64) kithttp.DecodeRequestFunc {
	return func(_ context.Context, r *http.Request) (any, error) {
		// Required, so that a browser form cannot post here cross-site.
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return nil, errUnsupportedMedia
		}
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
		if err != nil {
			return nil, bodyError(err, maxBody)
		}
		nr, err := DecodeNewResponse(body)
		if err != nil {
			return nil, err
		}
		return SubmitRequest{Response: nr}, nil
	}
}

// bodyError says why a request body could not be read, all of them the
// client's doing: too large, too slow (the server's read deadline passed),
// or cut short or malformed on the wire (a truncated body, bad chunked
// encoding).
func bodyError(err error, maxBody int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("%w: limit is %d bytes", errBodyTooLarge, maxBody)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return errBodyTimeout
	}
	return invalidf("body: cut short or malformed on the wire")
}

func encodeSubmitResponse(logger *slog.Logger) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(SubmitResponse)
		if resp.Err != nil {
			errorEncoder(logger)(ctx, resp.Err, w)
			return nil
		}
		return httpjson.Write(w, http.StatusCreated, resp.Response)
	}
}

func decodeExportRequest(_ context.Context, r *http.Request) (any, error) {
	q, err := ParseExportQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	return ExportRequest{Query: q}, nil
}

// ExportPage is the JSON body of an export answer.
type ExportPage struct {
	Data       []Response `json:"data"`
	NextCursor string     `json:"next_cursor"`
	HasMore    bool       `json:"has_more"`
}

func encodeExportResponse(logger *slog.Logger) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(ExportResponse)
		if resp.Err != nil {
			errorEncoder(logger)(ctx, resp.Err, w)
			return nil
		}
		data := resp.Page.Responses
		if data == nil {
			data = []Response{}
		}
		return httpjson.Write(w, http.StatusOK, ExportPage{Data: data, NextCursor: resp.Page.Next.String(), HasMore: resp.Page.HasMore})
	}
}

// requireToken guards next with a bearer token when token is set.
func requireToken(token string, logger *slog.Logger, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	matches := httpserver.TokenMatcher(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, ok := httpserver.BearerToken(r.Header.Get("Authorization"))
		if !matches(sent) || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="xii-export"`)
			errorEncoder(logger)(r.Context(), ErrUnauthorized, w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusOf is the one table from errors to HTTP status and error code.
func statusOf(err error) (status int, code string) {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "body_too_large"
	case errors.Is(err, httpserver.ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited"
	case errors.Is(err, errBodyTimeout):
		return http.StatusRequestTimeout, "request_timeout"
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType, "unsupported_media_type"
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, "method_not_allowed"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timeout"
	case errors.Is(err, context.Canceled):
		return 499, "canceled" // the client went away; nobody reads this
	}
	return http.StatusInternalServerError, "internal"
}

func errorEncoder(logger *slog.Logger) kithttp.ErrorEncoder {
	return httpjson.ErrorWriter(logger, statusOf)
}

func errorHandler(logger *slog.Logger, err error, allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow != "" {
			w.Header().Set("Allow", allow)
		}
		errorEncoder(logger)(r.Context(), err, w)
	})
}
