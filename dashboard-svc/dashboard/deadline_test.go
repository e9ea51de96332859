package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestDeadline checks the deadline the aggregator call gets: the default,
// a requested one by parameter or header, and configured bounds.
func TestDeadline(t *testing.T) {
	custom := Deadlines{Default: 1 * time.Second, Max: 3 * time.Second}
	tests := []struct {
		name       string
		deadlines  Deadlines
		target     string
		header     http.Header
		wantStatus int
		want       time.Duration // the deadline asked for; the call gets a little less
	}{
		{"default", Deadlines{}, "/api/v1/responses", nil, 200, DefaultTimeout},
		{"parameter", Deadlines{}, "/api/v1/responses?timeout=300ms", nil, 200, 300 * time.Millisecond},
		{"header", Deadlines{}, "/api/v1/stats", http.Header{"Request-Timeout": {"700ms"}}, 200, 700 * time.Millisecond},
		{"parameter wins", Deadlines{}, "/api/v1/reporter?timeout=400ms", http.Header{"Request-Timeout": {"5s"}}, 200, 400 * time.Millisecond},
		{"largest allowed", Deadlines{}, "/api/v1/responses?timeout=10s", nil, 200, MaxTimeout},
		{"too large", Deadlines{}, "/api/v1/responses?timeout=10001ms", nil, 400, 0},
		{"too short to try", Deadlines{}, "/api/v1/responses?timeout=1ms", nil, 400, 0},
		{"custom default", custom, "/api/v1/responses", nil, 200, time.Second},
		{"custom max", custom, "/api/v1/responses?timeout=3s", nil, 200, 3 * time.Second},
		{"above custom max", custom, "/api/v1/responses?timeout=4s", nil, 400, 0},
		{"max only, below the default", Deadlines{Max: time.Second}, "/api/v1/responses", nil, 200, time.Second},
		{"default only, above the max", Deadlines{Default: 15 * time.Second}, "/api/v1/responses?timeout=15s", nil, 200, 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agg := &stubAggregator{}
			a := serve(t, newHandler(agg, HTTPOptions{Deadlines: tt.deadlines}), "GET", tt.target, tt.header)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.wantStatus, a.body)
			}
			if tt.wantStatus != 200 {
				if agg.calls() != 0 {
					t.Fatal("the aggregator was asked despite a rejected timeout")
				}
				return
			}
			// The call runs a moment after the deadline was set.
			if got := agg.lastBudget(t); got > tt.want || got < tt.want-time.Second/2 {
				t.Fatalf("the aggregator call had %v left, want just under %v", got, tt.want)
			}
		})
	}
}

// TestHungAggregatorTimesOut: an aggregator that never answers costs the
// request its deadline and a 504, not more.
func TestHungAggregatorTimesOut(t *testing.T) {
	agg := &stubAggregator{wait: true, ended: make(chan error, 1)}
	start := time.Now()
	a := serve(t, newHandler(agg, HTTPOptions{}), "GET", "/api/v1/responses?timeout=100ms", nil)
	elapsed := time.Since(start)
	if a.status != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504; body %s", a.status, a.body)
	}
	if err := <-agg.ended; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the aggregator call ended with %v, want the deadline", err)
	}
	// Generous: the point is that the answer does not wait for the
	// aggregator, which never answers.
	if elapsed > 5*time.Second {
		t.Fatalf("answered after %v with a 100ms deadline", elapsed)
	}
}

// TestClientDisconnectCancels: a client that goes away cancels the call to
// the aggregator.
func TestClientDisconnectCancels(t *testing.T) {
	agg := &stubAggregator{wait: true, started: make(chan struct{}, 1), ended: make(chan error, 1)}
	srv := httptest.NewServer(newHandler(agg, HTTPOptions{}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/responses?timeout=10s", nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-agg.started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client request ended with %v, want canceled", err)
	}
	select {
	case err := <-agg.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the aggregator call ended with %v, want canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the aggregator call was not cancelled when the client went away")
	}
}
