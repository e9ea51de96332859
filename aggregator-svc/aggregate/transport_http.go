package aggregate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	kithttp "github.com/go-kit/kit/transport/http"

	"xii/libs/deadline"
	"xii/libs/httpjson"
	"xii/libs/httpserver"
	"xii/libs/xiiapi"
	"xii/libs/xiiapi/xiihttp"
)

// SyncCompleteHeader carries SyncReport.Complete on every sync-backed answer.
const SyncCompleteHeader = xiiapi.SyncCompleteHeader

// timeouts bound a request's deadline, as the contract has them.
var timeouts = xiiapi.AggregatorTimeouts

// Routes are the routes NewHTTPHandler serves.
var Routes = []xiihttp.Route{
	{Method: "GET", Path: xiiapi.ResponsesPath},
	{Method: "GET", Path: xiiapi.StatsPath},
	{Method: "POST", Path: xiiapi.SyncPath},
	{Method: "GET", Path: xiiapi.ProvidersPath},
}

// NewHTTPHandler returns the aggregator's API for the dashboard:
//
//	GET  /api/v1/responses  sync, then a filtered page (limit, cursor)
//	GET  /api/v1/stats      sync, then counts per group_by
//	POST /api/v1/sync       sync only
//	GET  /api/v1/providers  the providers' state and the settings, no sync
//
// Every route takes a deadline (timeout parameter or Request-Timeout
// header; xiiapi.AggregatorTimeouts). Each request is
// decoded once, deadline included; the endpoint runs under that deadline.
//
// When token is set, every route requires it as a bearer token: the API is
// the dashboard's, and not a way around the dashboard's own token.
func NewHTTPHandler(e Endpoints, token string, logger *slog.Logger) http.Handler {
	encodeError := httpjson.ErrorWriter(logger, statusOf)
	opts := []kithttp.ServerOption{kithttp.ServerErrorEncoder(encodeError)}
	handlers := map[string]http.Handler{
		xiiapi.ResponsesPath: kithttp.NewServer(deadline.Endpoint(e.Query), decodeQuery, encodeQuery(encodeError), opts...),
		xiiapi.StatsPath:     kithttp.NewServer(deadline.Endpoint(e.Stats), decodeStats, encodeStats(encodeError), opts...),
		xiiapi.SyncPath:      kithttp.NewServer(deadline.Endpoint(e.Sync), decodeSync, encodeSync, opts...),
		xiiapi.ProvidersPath: kithttp.NewServer(deadline.Endpoint(e.Providers), decodeSync, encodeProviders, opts...),
	}
	fail := func(w http.ResponseWriter, r *http.Request, err error) { encodeError(r.Context(), err, w) }
	return xiihttp.NewMux(Routes, func(rt xiihttp.Route) http.Handler { return requireToken(token, fail, handlers[rt.Path]) }, fail)
}

// errUnauthorized: the internal token is missing or wrong.
var errUnauthorized = errors.New("missing or wrong internal token")

// requireToken guards next with a bearer token when token is set.
func requireToken(token string, fail xiihttp.Fail, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	matches := httpserver.TokenMatcher(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sent, ok := httpserver.BearerToken(r.Header.Get("Authorization")); !ok || !matches(sent) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="xii-aggregator"`)
			fail(w, r, errUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// decodeRequest parses r's query once, strictly, with the deadline it asks
// for; read turns the parameters into the endpoint's request.
func decodeRequest(r *http.Request, known []string, read func(url.Values) (any, error)) (any, error) {
	v, timeout, err := xiihttp.ReadQuery(r, known, timeouts)
	if err != nil {
		return nil, err
	}
	req, err := read(v)
	if err != nil {
		return nil, err
	}
	return deadline.Request{Request: req, Timeout: timeout}, nil
}

func decodeQuery(_ context.Context, r *http.Request) (any, error) {
	return decodeRequest(r, xiiapi.QueryParams, func(v url.Values) (any, error) { return ParseQuery(v) })
}

func decodeStats(_ context.Context, r *http.Request) (any, error) {
	return decodeRequest(r, xiiapi.StatsParams, func(v url.Values) (any, error) { return xiiapi.ParseStatsQuery(v) })
}

func decodeSync(_ context.Context, r *http.Request) (any, error) {
	return decodeRequest(r, []string{"timeout"}, func(url.Values) (any, error) { return nil, nil })
}

// ParseQuery reads a Query from parameters xiiapi.ParseValues accepted,
// the cursor decoded; Query.Validate checks the values.
func ParseQuery(v url.Values) (Query, error) {
	wq, err := xiiapi.ParseQuery(v)
	if err != nil {
		return Query{}, err
	}
	q := Query{Filter: wq.Filter, Limit: wq.Limit}
	if wq.Cursor != "" {
		if q.After, err = ParseKey(wq.Cursor); err != nil {
			return Query{}, err
		}
	}
	return q, nil
}

// encodeQuery writes a page as the contract's ResponsesBody. The page's
// fields are encoded once for every answer sharing a kept page (see
// PageCache); only the sync report is each answer's own.
func encodeQuery(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(QueryResponse)
		if resp.Err != nil {
			encodeError(ctx, resp.Err, w)
			return nil
		}
		r := resp.Result
		fields, err := r.Page.encodeOnce(encodePageFields)
		if err != nil {
			return err
		}
		if r.Sync.Providers == nil {
			r.Sync.Providers = map[string]ProviderSync{} // an object, never null: the dashboard passes it on
		}
		rep, err := json.Marshal(r.Sync)
		if err != nil {
			return err
		}
		body := make([]byte, 0, len(fields)+len(rep)+len(`,"sync":}`)+1)
		body = append(append(append(append(body, fields...), `,"sync":`...), rep...), "}\n"...)
		var missing []string
		if !r.Sync.Complete {
			missing = r.Sync.Incomplete()
		}
		xiihttp.SetSyncHeaders(w.Header(), r.Sync.Complete, missing)
		return httpjson.WriteEncoded(w, http.StatusOK, body)
	}
}

// encodePageFields encodes a ResponsesBody's fields before its sync: the
// object's opening, data and next_cursor, without its closing brace.
func encodePageFields(p ResultPage) ([]byte, error) {
	var next string
	if p.Next != nil {
		next = p.Next.String()
	}
	b, err := json.Marshal(xiiapi.ResponsesBody{Data: xiihttp.OrEmpty(p.Responses), NextCursor: next})
	if err != nil {
		return nil, err
	}
	// b ends with the sync left out; it follows in its place.
	const noSync = `,"sync":null}`
	if !bytes.HasSuffix(b, []byte(noSync)) {
		return nil, errors.New("encode page: the body does not end with its sync")
	}
	return b[:len(b)-len(noSync)], nil
}

func encodeStats(encodeError kithttp.ErrorEncoder) kithttp.EncodeResponseFunc {
	return xiihttp.EncodeSynced(encodeError, func(resp StatsResponse) (SyncReport, any) {
		r := resp.Result
		return r.Sync, xiiapi.StatsBody{Groups: xiihttp.OrEmpty(r.Stats.Groups), Total: r.Stats.Total, Truncated: r.Stats.Truncated, Sync: &r.Sync}
	})
}

func encodeProviders(_ context.Context, w http.ResponseWriter, response any) error {
	return httpjson.Write(w, http.StatusOK, response.(Providers))
}

func encodeSync(_ context.Context, w http.ResponseWriter, response any) error {
	rep := response.(SyncResponse).Report
	return xiihttp.WriteSynced(w, rep, xiiapi.SyncBody{Sync: &rep})
}

// statusOf is the one table from errors to HTTP status and error code.
func statusOf(err error) (int, string) {
	if status, code, ok := xiihttp.StatusOf(err); ok {
		return status, code
	}
	switch {
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, xiiapi.CodeUnauthorized
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, xiiapi.CodeTimeout
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, xiiapi.CodeStoreUnavailable
	}
	return http.StatusInternalServerError, xiiapi.CodeInternal
}
