package aggregate

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	kithttp "github.com/go-kit/kit/transport/http"

	"xii/libs/httpjson"
)

// SyncCompleteHeader carries SyncReport.Complete on every sync-backed answer.
const SyncCompleteHeader = "X-Sync-Complete"

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
	// SyncBody is the answer of POST /api/v1/sync.
	SyncBody struct {
		Sync SyncReport `json:"sync"`
	}
)

var (
	errNotFound         = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed")
)

// NewHTTPHandler returns the aggregator's API for the dashboard:
//
//	GET  /api/v1/responses  sync, then a filtered page (limit, cursor)
//	GET  /api/v1/stats      sync, then counts per group_by
//	POST /api/v1/sync       sync only
//
// Every route takes a deadline (timeout parameter or Request-Timeout
// header, default DefaultTimeout, at most MaxTimeout).
func NewHTTPHandler(e Endpoints, logger *slog.Logger) http.Handler {
	opts := []kithttp.ServerOption{kithttp.ServerErrorEncoder(errorEncoder(logger))}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/responses", withDeadline(QueryParams, kithttp.NewServer(e.Query,
		decodeWith(ParseQuery), encodeQuery(logger), opts...)))
	mux.Handle("GET /api/v1/stats", withDeadline(StatsParams, kithttp.NewServer(e.Stats,
		decodeWith(ParseStatsQuery), encodeStats(logger), opts...)))
	mux.Handle("POST /api/v1/sync", withDeadline(SyncParams, kithttp.NewServer(e.Sync,
		func(context.Context, *http.Request) (any, error) { return nil, nil }, encodeSync, opts...)))
	for path, allow := range map[string]string{"/api/v1/responses": "GET", "/api/v1/stats": "GET", "/api/v1/sync": "POST"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			errorEncoder(logger)(r.Context(), errMethodNotAllowed, w)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { errorEncoder(logger)(r.Context(), errNotFound, w) })
	return mux
}

// withDeadline checks the query's parameter names and applies the
// requested deadline to the whole request, sync and read alike.
func withDeadline(known []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values, err := ParseValues(r.URL.RawQuery, known)
		if err == nil {
			var timeout time.Duration
			if timeout, err = ParseTimeout(values, r.Header.Get("Request-Timeout")); err == nil {
				ctx, cancel := context.WithTimeout(r.Context(), timeout)
				defer cancel()
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
		}
		status, code := statusOf(err)
		httpjson.Error(w, status, code, err.Error())
	})
}

func decodeWith[T any](parse func(url.Values) (T, error)) kithttp.DecodeRequestFunc {
	return func(_ context.Context, r *http.Request) (any, error) {
		// withDeadline has already checked the parameters.
		return parse(r.URL.Query())
	}
}

func encodeQuery(logger *slog.Logger) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(QueryResponse)
		if resp.Err != nil {
			errorEncoder(logger)(ctx, resp.Err, w)
			return nil
		}
		body := ResponsesBody{Data: resp.Result.Page.Responses, Sync: resp.Result.Sync}
		if body.Data == nil {
			body.Data = []Response{}
		}
		if next := resp.Result.Page.Next; next != nil {
			body.NextCursor = next.String()
		}
		return writeSynced(w, body.Sync, body)
	}
}

func encodeStats(logger *slog.Logger) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(StatsResponse)
		if resp.Err != nil {
			errorEncoder(logger)(ctx, resp.Err, w)
			return nil
		}
		body := StatsBody{Groups: resp.Result.Stats.Groups, Total: resp.Result.Stats.Total, Sync: resp.Result.Sync}
		if body.Groups == nil {
			body.Groups = []Group{}
		}
		return writeSynced(w, body.Sync, body)
	}
}

func encodeSync(_ context.Context, w http.ResponseWriter, response any) error {
	rep := response.(SyncResponse).Report
	return writeSynced(w, rep, SyncBody{Sync: rep})
}

func writeSynced(w http.ResponseWriter, rep SyncReport, body any) error {
	w.Header().Set(SyncCompleteHeader, strconv.FormatBool(rep.Complete))
	return httpjson.Write(w, http.StatusOK, body)
}

// statusOf is the one table from errors to HTTP status and error code.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, "method_not_allowed"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "timeout"
	case errors.Is(err, context.Canceled):
		return 499, "canceled" // the client went away; nobody reads this
	}
	return http.StatusInternalServerError, "internal"
}

func errorEncoder(logger *slog.Logger) kithttp.ErrorEncoder {
	return httpjson.ErrorWriter(logger, statusOf)
}
