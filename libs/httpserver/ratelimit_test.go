package httpserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xii/libs/httpjson"
)

func TestRateLimitPerClient(t *testing.T) {
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		if !errors.Is(err, ErrRateLimited) {
			t.Errorf("failed with %v, want ErrRateLimited", err)
		}
		httpjson.Error(w, http.StatusTooManyRequests, "rate_limited", err.Error())
	}
	h := RateLimit{PerSecond: 1, Burst: 3}.Middleware(fail)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	get := func(addr string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		if w := get("10.0.0.1:1000"); w.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, w.Code)
		}
	}
	w := get("10.0.0.1:1001") // another port, the same client
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"code":"rate_limited"`) {
		t.Fatalf("past the burst: %d, Retry-After %q, %s; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := get("10.0.0.2:1000"); w.Code != http.StatusOK {
		t.Fatalf("another client: %d, want its own allowance", w.Code)
	}
}

func TestRateLimitForgetsIdleClients(t *testing.T) {
	c := &clients{limit: 1, burst: 1, seen: map[string]*client{}}
	now := time.Now()
	c.reserve("a", now)
	c.reserve("b", now.Add(2*clientIdle))
	if _, ok := c.seen["a"]; ok || len(c.seen) != 1 {
		t.Errorf("clients %v: a, idle past %s, should be forgotten", c.seen, clientIdle)
	}
}
