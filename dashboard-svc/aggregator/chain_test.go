package aggregator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xii/dashboard-svc/dashboard"
	"xii/libs/xiiapi"
	"xii/testkit/wait"
)

// newDashboard serves the public API over c, as cmd wires it but without
// telemetry.
func newDashboard(t testing.TB, c *Client) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(dashboard.NewHTTPHandler(dashboard.MakeEndpoints(dashboard.NewService(c)), dashboard.HTTPOptions{}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, ctx context.Context, url string, header http.Header) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// TestChain runs requests through the dashboard's handler, the client and
// a fake replica found in etcd.
func TestChain(t *testing.T) {
	c, register := newTestClient(t, Config{})
	fake := newFake(t, "fake")
	register("fake", fake.URL)
	waitReplicas(t, c, 1)
	srv := newDashboard(t, c)
	incomplete := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, "false", xiiapi.ResponsesBody{Data: []dashboard.Response{}, Sync: &dashboard.SyncReport{
			Providers: map[string]dashboard.ProviderSync{"red": {Status: xiiapi.StatusTimeout, Error: "no answer"}},
		}})
	}
	tests := []struct {
		name, target  string
		header        http.Header
		handle        func(http.ResponseWriter, *http.Request)
		wantStatus    int
		wantBody      string
		wantSync      string
		wantForwarded time.Duration // the Request-Timeout sent is under it, and more than half of it
	}{
		{"seed reporter", "/api/v1/reporter", nil, fake.answerPage, 200, `[{"provider":"blue"`, "true", dashboard.DefaultTimeout},
		{"timeout parameter", "/api/v1/responses?device=iOS&location=Germany&limit=50&timeout=500ms", nil, fake.answerPage, 200, `"complete":true`, "true", 500 * time.Millisecond},
		{"Request-Timeout header", "/api/v1/stats?group_by=device", http.Header{"Request-Timeout": {"700ms"}}, fake.answerPage, 200, `"total":1`, "true", 700 * time.Millisecond},
		{"incomplete sync", "/api/v1/responses", nil, incomplete, 200, `"red":{"status":"timeout"`, "false", dashboard.DefaultTimeout},
		{"hung aggregator", "/api/v1/responses?timeout=300ms", nil, fake.hang, 504, `"code":"timeout"`, "false", 300 * time.Millisecond},
		{"aggregator failing", "/api/v1/reporter", nil, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, 502, `"code":"bad_gateway"`, "false", dashboard.DefaultTimeout},
		{"aggregator draining", "/api/v1/reporter", nil, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, 503, `"code":"aggregator_unavailable"`, "false", dashboard.DefaultTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.set(tt.handle)
			start := time.Now()
			resp, body, err := get(t, t.Context(), srv.URL+tt.target, tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("status %d body %s; want %d with %s", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if got := resp.Header.Get(dashboard.SyncCompleteHeader); got != tt.wantSync {
				t.Errorf("%s %q, want %q", dashboard.SyncCompleteHeader, got, tt.wantSync)
			}
			if elapsed := time.Since(start); elapsed > tt.wantForwarded+2*time.Second {
				t.Errorf("answered after %v", elapsed)
			}
			sent, err := time.ParseDuration(fake.last(t).header.Get(dashboard.RequestTimeoutHeader))
			if err != nil || sent >= tt.wantForwarded || sent < tt.wantForwarded/2 {
				t.Errorf("Request-Timeout sent %v (%v), want a little under %v", sent, err, tt.wantForwarded)
			}
		})
	}
}

// TestChainClientDisconnect: a dashboard client that goes away cancels
// the aggregator's request.
func TestChainClientDisconnect(t *testing.T) {
	c, register := newTestClient(t, Config{})
	fake := newFake(t, "fake")
	fake.ended = make(chan error, 1)
	fake.set(fake.hang)
	register("fake", fake.URL)
	waitReplicas(t, c, 1)
	srv := newDashboard(t, c)

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, err := get(t, ctx, srv.URL+"/api/v1/responses?timeout=10s", nil)
		errc <- err
	}()
	wait.For(t, "the request to reach the replica", func() bool { return fake.count() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client request ended with %v, want canceled", err)
	}
	select {
	case err := <-fake.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the replica's request ended with %v, want canceled", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the replica's request outlived the client's")
	}
}

// TestChainNoReplica: nothing registered is a 503 with a JSON error.
func TestChainNoReplica(t *testing.T) {
	c, _ := newTestClient(t, Config{})
	srv := newDashboard(t, c)
	resp, body, err := get(t, t.Context(), srv.URL+"/api/v1/responses", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || !strings.Contains(body, `"code":"aggregator_unavailable"`) || resp.Header.Get(dashboard.SyncCompleteHeader) != "false" {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
}
