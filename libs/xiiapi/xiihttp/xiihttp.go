// Package xiihttp is the HTTP half of the wire contract, used alike by the
// aggregator's API and the dashboard's: how routes are served, how a
// request's query and deadline are read, and how a synced answer is
// written. Package xiiapi holds the types; this package, the mechanics.
package xiihttp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"

	"xii/libs/httpjson"
	"xii/libs/xiiapi"
)

// Transport errors: no route has the path, or none the method.
var (
	ErrNotFound         = errors.New("no such route")
	ErrMethodNotAllowed = errors.New("method not allowed")
)

// Route is one route of an API.
type Route struct {
	Method, Path string
}

// Fail writes err as an error answer.
type Fail func(w http.ResponseWriter, r *http.Request, err error)

// NewMux serves handler(rt) on each route's method and path. Another method
// on a known path fails with ErrMethodNotAllowed and an Allow header (HEAD
// comes with GET), any other path with ErrNotFound.
func NewMux(routes []Route, handler func(Route) http.Handler, fail Fail) *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range routes {
		mux.Handle(rt.Method+" "+rt.Path, handler(rt))
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
		if rt.Method == http.MethodGet {
			allowed[rt.Path] = append(allowed[rt.Path], http.MethodHead)
		}
	}
	// A method-less pattern is less specific than the ones above, so it
	// only catches the wrong methods on known paths.
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			fail(w, r, ErrMethodNotAllowed)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fail(w, r, ErrNotFound) })
	return mux
}

// ReadQuery parses r's query once, strictly (known parameters only, each
// at most once), with the deadline it asks for within b: the timeout
// parameter, or the RequestTimeoutHeader. Errors wrap xiiapi.ErrInvalid.
func ReadQuery(r *http.Request, known []string, b xiiapi.Timeouts) (url.Values, time.Duration, error) {
	v, err := xiiapi.ParseValues(r.URL.RawQuery, known)
	if err != nil {
		return nil, 0, err
	}
	timeout, err := b.Parse(v, r.Header.Get(xiiapi.RequestTimeoutHeader))
	if err != nil {
		return nil, 0, err
	}
	return v, timeout, nil
}

// WriteSynced writes body as a 200 answer, with rep's completeness in the
// SyncCompleteHeader and the providers that are not ok in the
// SyncMissingHeader.
func WriteSynced(w http.ResponseWriter, rep xiiapi.SyncReport, body any) error {
	var missing []string
	if !rep.Complete {
		missing = rep.Incomplete()
	}
	SetSyncHeaders(w.Header(), rep.Complete, missing)
	return httpjson.Write(w, http.StatusOK, body)
}

// SetSyncHeaders sets the SyncCompleteHeader and the SyncMissingHeader,
// which names the providers in missing (empty when complete).
func SetSyncHeaders(h http.Header, complete bool, missing []string) {
	h.Set(xiiapi.SyncCompleteHeader, strconv.FormatBool(complete))
	h.Set(xiiapi.SyncMissingHeader, strings.Join(missing, ","))
}

// StatusOf maps the errors both APIs answer alike to a status and an error
// code; ok is false for any other error.
func StatusOf(err error) (status int, code string, ok bool) {
	switch {
	case errors.Is(err, xiiapi.ErrInvalid):
		return http.StatusBadRequest, xiiapi.CodeInvalidRequest, true
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, xiiapi.CodeNotFound, true
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed, xiiapi.CodeMethodNotAllowed, true
	case errors.Is(err, context.Canceled):
		return 499, xiiapi.CodeCanceled, true // the client went away; nobody reads this
	}
	return 0, "", false
}

// EncodeSynced returns the go-kit encoder of an endpoint's responses of
// type R: a business error (Failed) goes to encodeError, a result is
// written by WriteSynced with the report and body answer gives for it.
func EncodeSynced[R endpoint.Failer](encodeError kithttp.ErrorEncoder, answer func(R) (xiiapi.SyncReport, any)) kithttp.EncodeResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		resp := response.(R)
		if err := resp.Failed(); err != nil {
			encodeError(ctx, err, w)
			return nil
		}
		rep, body := answer(resp)
		return WriteSynced(w, rep, body)
	}
}

// OrEmpty keeps answers free of JSON nulls where lists are expected.
func OrEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
