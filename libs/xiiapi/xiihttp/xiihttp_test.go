package xiihttp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNewMux(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	var failed error
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		failed = err
		w.WriteHeader(http.StatusTeapot)
	}
	mux := NewMux([]Route{{"GET", "/a"}, {"POST", "/b"}}, func(Route) http.Handler { return ok }, fail)
	for _, tt := range []struct {
		method, path string
		status       int
		err          error
		allow        string
	}{
		{"GET", "/a", http.StatusNoContent, nil, ""},
		{"HEAD", "/a", http.StatusNoContent, nil, ""},
		{"POST", "/b", http.StatusNoContent, nil, ""},
		{"POST", "/a", http.StatusTeapot, ErrMethodNotAllowed, "GET, HEAD"},
		{"GET", "/b", http.StatusTeapot, ErrMethodNotAllowed, "POST"},
		{"GET", "/c", http.StatusTeapot, ErrNotFound, ""},
	} {
		failed = nil
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.status || !errors.Is(failed, tt.err) || (tt.err == nil) != (failed == nil) || w.Header().Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d, %v, Allow %q; want %d, %v, Allow %q", tt.method, tt.path, w.Code, failed, w.Header().Get("Allow"), tt.status, tt.err, tt.allow)
		}
	}
}
