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
	"xii/libs/xiiapi"
)

// SyncCompleteHeader carries SyncReport.Complete on every sync-backed answer.
const SyncCompleteHeader = xiiapi.SyncCompleteHeader

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
	mux.Handle("GET "+xiiapi.ResponsesPath, withDeadline(QueryParams, kithttp.NewServer(e.Query,
		decodeWith(ParseQuery), encodeQuery(logger), opts...)))
	mux.Handle("GET "+xiiapi.StatsPath, withDeadline(StatsParams, kithttp.NewServer(e.Stats,
		decodeWith(ParseStatsQuery), encodeStats(logger), opts...)))
	mux.Handle("POST "+xiiapi.SyncPath, withDeadline(SyncParams, kithttp.NewServer(e.Sync,
		func(context.Context, *http.Request) (any, error) { return nil, nil }, encodeSync, opts...)))
	for path, allow := range map[string]string{xiiapi.ResponsesPath: "GET", xiiapi.StatsPath: "GET", xiiapi.SyncPath: "POST"} {
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
			if timeout, err = ParseTimeout(values, r.Header.Get(xiiapi.RequestTimeoutHeader)); err == nil {
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
		body := xiiapi.ResponsesBody{Data: resp.Result.Page.Responses, Sync: &resp.Result.Sync}
		if body.Data == nil {
			body.Data = []Response{}
		}
		if next := resp.Result.Page.Next; next != nil {
			body.NextCursor = next.String()
		}
		return writeSynced(w, resp.Result.Sync, body)
	}
}

func encodeStats(logger *slog.Logger) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(StatsResponse)
		if resp.Err != nil {
			errorEncoder(logger)(ctx, resp.Err, w)
			return nil
		}
		body := xiiapi.StatsBody{Groups: resp.Result.Stats.Groups, Total: resp.Result.Stats.Total, Sync: &resp.Result.Sync}
		if body.Groups == nil {
			body.Groups = []Group{}
		}
		return writeSynced(w, resp.Result.Sync, body)
	}
}

func encodeSync(_ context.Context, w http.ResponseWriter, response any) error {
	rep := response.(SyncResponse).Report
	return writeSynced(w, rep, xiiapi.SyncBody{Sync: &rep})
}

func writeSynced(w http.ResponseWriter, rep SyncReport, body any) error {
	w.Header().Set(SyncCompleteHeader, strconv.FormatBool(rep.Complete))
	return httpjson.Write(w, http.StatusOK, body)
}

// statusOf is the one table from errors to HTTP status and error code.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, xiiapi.CodeInvalidRequest
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, xiiapi.CodeNotFound
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, xiiapi.CodeMethodNotAllowed
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, xiiapi.CodeTimeout
	case errors.Is(err, context.Canceled):
		return 499, xiiapi.CodeCanceled // the client went away; nobody reads this
	}
	return http.StatusInternalServerError, xiiapi.CodeInternal
}

func errorEncoder(logger *slog.Logger) kithttp.ErrorEncoder {
	return httpjson.ErrorWriter(logger, statusOf)
}
