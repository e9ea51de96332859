package provider

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// fixedClock never moves: every reservation on a limiter reading it queues
// behind the ones before.
func fixedClock() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

func TestTypeformLimiterSpacesRequests(t *testing.T) {
	s, err := newTypeform("acme", mustParse(t, "https://api.typeform.com/forms/"+testForm), Options{Credential: Credential{Token: testToken}, Now: fixedClock}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	roomy := deadlineIn(t, time.Minute)
	tests := []struct {
		name      string
		ctx       context.Context
		wantDelay time.Duration
		wantErr   error
	}{
		{"first is free", context.Background(), 0, nil},
		{"second half a second later", context.Background(), 500 * time.Millisecond, nil},
		{"third a second later", roomy, time.Second, nil},
		{"past a deadline: refused", deadlineIn(t, 100*time.Millisecond), 0, ErrRateLimited},
		{"the refused slot was given back", context.Background(), 1500 * time.Millisecond, nil},
	}
	for _, tt := range tests {
		delay, _, err := s.reserve(tt.ctx)
		if !errors.Is(err, tt.wantErr) || delay != tt.wantDelay {
			t.Errorf("%s: reserve = %v, %v; want %v, %v", tt.name, delay, err, tt.wantDelay, tt.wantErr)
		}
	}
}

func deadlineIn(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// TestTypeformLimiterShared: two forms read with one token share its
// limit; a fetch whose slot comes after its deadline fails at once with
// ErrRateLimited and sends nothing.
func TestTypeformLimiterShared(t *testing.T) {
	var requests atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		canned(200, nil, `{"total_items":0,"page_count":0,"items":[]}`)(w, r)
	}))
	opts := Options{Credential: boundTo(t, srv.URL, testToken), Now: fixedClock, Limiter: NewTypeformLimiter()}
	a := newSource(t, srv, "acme", Descriptor{URL: srv.URL + "/forms/a", Dialect: DialectTypeform}, opts)
	b := newSource(t, srv, "acme-nps", Descriptor{URL: srv.URL + "/forms/b", Dialect: DialectTypeform}, opts)

	if _, err := a.Fetch(context.Background(), Request{}); err != nil {
		t.Fatal(err)
	}
	page, err := fetchWithin(b, 100*time.Millisecond, Request{Cursor: testCursor})
	checkFetchError(t, "acme-nps", page, err, ErrRateLimited)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the limit, not a timeout", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// TestTypeformLimiterWaitCanceled: a wait that ends with its context gives
// its slot back, however far it got.
func TestTypeformLimiterWaitCanceled(t *testing.T) {
	s, err := newTypeform("acme", mustParse(t, "https://api.typeform.com/forms/"+testForm), Options{Credential: Credential{Token: testToken}, Now: fixedClock}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	for range 20 { // the next slot is 10s away
		s.reserve(context.Background())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.wait(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("wait = %v, want context.Canceled", err)
	}
	if delay, _, _ := s.reserve(context.Background()); delay != 10*time.Second {
		t.Errorf("next delay = %v, want 10s: the canceled wait kept its slot", delay)
	}
}
