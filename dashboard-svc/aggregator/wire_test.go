package aggregator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"xii/dashboard-svc/dashboard"

	"xii/libs/xiiapi"
	"xii/testkit/wait"
)

func TestAnswers(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		contentType  string
		complete     string // X-Sync-Complete
		body         string
		wantErr      error
		wantComplete bool
	}{
		{"complete", 200, "application/json", "true", `{"data":[],"next_cursor":"","sync":{"complete":true,"providers":{}}}`, nil, true},
		{"incomplete", 200, "application/json; charset=utf-8", "false",
			`{"data":[{"provider":"red","text":"t"}],"next_cursor":"abc","sync":{"complete":false,"providers":{"red":{"status":"timeout","lag_ms":5}}}}`, nil, false},
		{"header contradicts body", 200, "application/json", "false", `{"data":[],"sync":{"complete":true,"providers":{}}}`, nil, false},
		{"header missing", 200, "application/json", "", `{"data":[],"sync":{"complete":true,"providers":{}}}`, nil, false},
		{"no sync report", 200, "application/json", "true", `{"data":[]}`, dashboard.ErrBadGateway, false},
		{"not JSON", 200, "application/json", "true", `<html>`, dashboard.ErrBadGateway, false},
		{"HTML", 200, "text/html", "true", `{}`, dashboard.ErrBadGateway, false},
		{"rejected", 400, "application/json", "", `{"error":"invalid request: cursor: malformed","code":"invalid_request"}`, dashboard.ErrInvalid, false},
		{"not found", 404, "application/json", "", `{"error":"no such route","code":"not_found"}`, dashboard.ErrBadGateway, false},
		{"unauthorized", 401, "text/plain", "", `nope`, dashboard.ErrBadGateway, false},
		{"internal", 500, "application/json", "", `{"error":"Internal Server Error","code":"internal"}`, dashboard.ErrBadGateway, false},
		{"bad gateway", 502, "text/plain", "", `proxy error`, dashboard.ErrUnavailable, false},
		{"timed out", 504, "application/json", "false", `{"error":"Gateway Timeout","code":"timeout"}`, dashboard.ErrTimeout, false},
	}
	c, register := newTestClient(t, Config{Attempts: 1})
	fake := newFake(t, "fake")
	register("fake", fake.URL)
	waitReplicas(t, c, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.set(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				if tt.complete != "" {
					w.Header().Set(dashboard.SyncCompleteHeader, tt.complete)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			p, err := c.Responses(t.Context(), dashboard.Query{Limit: 50})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err == nil && p.Sync.Complete != tt.wantComplete {
				t.Fatalf("complete %v, want %v", p.Sync.Complete, tt.wantComplete)
			}
		})
	}
	t.Run("rejection message kept", func(t *testing.T) {
		fake.set(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, "", map[string]string{"error": "invalid request: cursor: malformed", "code": "invalid_request"})
		})
		_, err := c.Responses(t.Context(), dashboard.Query{})
		if err == nil || !strings.Contains(err.Error(), "invalid request: cursor: malformed (from the aggregator)") {
			t.Fatalf("error %v does not pass the aggregator's message on", err)
		}
	})
}

// TestEncodedAnswers: a responses answer passed through is the
// aggregator's body to the byte, complete only when its header says so,
// and refused when it is cut off or no JSON object.
func TestEncodedAnswers(t *testing.T) {
	const body = `{"data":[{"provider":"red","text":"t"}],"next_cursor":"abc","sync":{"complete":false,"providers":{"red":{"status":"timeout"}}}}` + "\n"
	tests := []struct {
		name         string
		status       int
		contentType  string
		header       map[string]string
		body         string
		length       int // Content-Length sent; 0: that of body
		wantErr      error
		wantComplete bool
		wantUnsynced []string
	}{
		{"complete", 200, "application/json; charset=utf-8", map[string]string{"X-Sync-Complete": "true", "X-Sync-Missing": ""}, body, 0, nil, true, nil},
		{"incomplete", 200, "application/json", map[string]string{"X-Sync-Complete": "false", "X-Sync-Missing": "blue,red"}, body, 0, nil, false, []string{"blue", "red"}},
		{"header missing", 200, "application/json", nil, body, 0, nil, false, nil},
		{"cut off", 200, "application/json", map[string]string{"X-Sync-Complete": "true"}, body, len(body) + 10, dashboard.ErrBadGateway, false, nil},
		{"not an object", 200, "application/json", map[string]string{"X-Sync-Complete": "true"}, `<html>`, 0, dashboard.ErrBadGateway, false, nil},
		{"empty", 200, "application/json", map[string]string{"X-Sync-Complete": "true"}, ``, 0, dashboard.ErrBadGateway, false, nil},
		{"HTML", 200, "text/html", map[string]string{"X-Sync-Complete": "true"}, `{}`, 0, dashboard.ErrBadGateway, false, nil},
		{"rejected", 400, "application/json", nil, `{"error":"cursor: malformed","code":"invalid_request"}`, 0, dashboard.ErrInvalid, false, nil},
	}
	c, register := newTestClient(t, Config{Attempts: 1})
	fake := newFake(t, "fake")
	register("fake", fake.URL)
	waitReplicas(t, c, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.set(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if tt.length > 0 {
					w.Header().Set("Content-Length", strconv.Itoa(tt.length))
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			p, err := c.ResponsesEncoded(t.Context(), dashboard.Query{Limit: 50})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(p.Body) != tt.body || p.Complete != tt.wantComplete || !slices.Equal(p.Unsynced, tt.wantUnsynced) {
				t.Fatalf("got body %q complete %v unsynced %v, want the body sent, %v, %v", p.Body, p.Complete, p.Unsynced, tt.wantComplete, tt.wantUnsynced)
			}
		})
	}
}

func TestQueryAndStatsOnTheWire(t *testing.T) {
	c, register := newTestClient(t, Config{})
	fake := newFake(t, "fake")
	register("fake", fake.URL)
	waitReplicas(t, c, 1)
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	q := dashboard.Query{Filter: dashboard.Filter{Device: "iOS", Location: "Germany", Since: since}, Limit: 50, Cursor: "eyJ9"}
	if _, err := c.Responses(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	got := fake.last(t)
	if got.path != xiiapi.ResponsesPath || got.query.Encode() != "cursor=eyJ9&device=iOS&limit=50&location=Germany&since=2026-01-02T03%3A04%3A05Z" {
		t.Fatalf("asked %s?%s", got.path, got.query.Encode())
	}
	st, err := c.Stats(t.Context(), dashboard.StatsQuery{GroupBy: []string{"device", "location"}, Filter: dashboard.Filter{Provider: "red"}})
	if err != nil || st.Total != 1 || !st.Sync.Complete {
		t.Fatalf("Stats() = %+v, %v", st, err)
	}
	if got := fake.last(t); got.path != xiiapi.StatsPath || got.query.Encode() != "group_by=device%2Clocation&provider=red" {
		t.Fatalf("asked %s?%s", got.path, got.query.Encode())
	}
	if _, err := c.Stats(t.Context(), dashboard.StatsQuery{GroupBy: []string{"time", "device"}, Interval: "1d", Top: 5}); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t); got.path != xiiapi.StatsPath || got.query.Encode() != "group_by=time%2Cdevice&interval=1d&top=5" {
		t.Fatalf("asked %s?%s", got.path, got.query.Encode())
	}
}

func TestForwardBudget(t *testing.T) {
	tests := []struct{ remaining, margin, want time.Duration }{
		{2 * time.Second, 50 * time.Millisecond, 1950 * time.Millisecond},
		{500 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
		{time.Minute, 50 * time.Millisecond, xiiapi.AggregatorMaxTimeout},
	}
	for _, tt := range tests {
		if got := forwardBudget(tt.remaining, tt.margin); got != tt.want {
			t.Errorf("forwardBudget(%v, %v) = %v, want %v", tt.remaining, tt.margin, got, tt.want)
		}
	}
}

// TestRequestTimeoutForwarded: the aggregator is told to answer a little
// before the caller's deadline.
func TestRequestTimeoutForwarded(t *testing.T) {
	c, register := newTestClient(t, Config{})
	fake := newFake(t, "fake")
	register("fake", fake.URL)
	waitReplicas(t, c, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 800*time.Millisecond)
	defer cancel()
	if _, err := c.Responses(ctx, dashboard.Query{}); err != nil {
		t.Fatal(err)
	}
	header := fake.last(t).header.Get(dashboard.RequestTimeoutHeader)
	d, err := time.ParseDuration(header)
	if err != nil || d >= 800*time.Millisecond || d < 400*time.Millisecond {
		t.Fatalf("Request-Timeout %q, want a duration a little under 800ms", header)
	}
}

// TestCancelReachesTheAggregator: cancelling a call cancels the
// aggregator's request.
func TestCancelReachesTheAggregator(t *testing.T) {
	c, register := newTestClient(t, Config{})
	fake := newFake(t, "fake")
	fake.ended = make(chan error, 1)
	fake.set(fake.hang)
	register("fake", fake.URL)
	waitReplicas(t, c, 1)

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Responses(ctx, dashboard.Query{})
		errc <- err
	}()
	wait.For(t, "the call to reach the replica", func() bool { return fake.count() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("call ended with %v, want canceled", err)
	}
	select {
	case err := <-fake.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the replica's request ended with %v, want canceled", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the replica's request was not cancelled")
	}
}

// TestHungReplicaTimesOut: a replica that never answers costs the call its
// deadline, and the call is not retried after it.
func TestHungReplicaTimesOut(t *testing.T) {
	c, register := newTestClient(t, Config{})
	hung, other := newFake(t, "hung"), newFake(t, "other")
	hung.set(hung.hang)
	other.set(other.hang)
	register("hung", hung.URL)
	register("other", other.URL)
	waitReplicas(t, c, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Responses(ctx, dashboard.Query{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("returned after %v with a 200ms deadline", elapsed)
	}
	if n := hung.count() + other.count(); n != 1 {
		t.Fatalf("asked %d times, want once", n)
	}
}

// TestInternalTokenSent: every call carries the aggregator's internal
// token when one is configured.
func TestInternalTokenSent(t *testing.T) {
	c, register := newTestClient(t, Config{Token: "internal-s3cret"})
	fake := newFake(t, "fake")
	register("fake", fake.URL)
	waitReplicas(t, c, 1)
	if _, err := c.Stats(t.Context(), dashboard.StatsQuery{}); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t).header.Get("Authorization"); got != "Bearer internal-s3cret" {
		t.Errorf("Authorization %q, want the internal token", got)
	}
}
