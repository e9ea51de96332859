package aggregator

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"xii/dashboard-svc/dashboard"
	"xii/libs/xiiapi"
)

// starvedReplica is an aggregator on a starved machine: its sync uses the
// whole budget it is given (a provider hangs), and its answer then takes
// another way back to arrive.
func starvedReplica(wayBack time.Duration) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		budget, err := time.ParseDuration(r.Header.Get(dashboard.RequestTimeoutHeader))
		if err != nil {
			http.Error(w, "no budget", http.StatusBadRequest)
			return
		}
		t := time.NewTimer(budget + wayBack)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		writeJSON(w, http.StatusOK, "false", xiiapi.ResponsesBody{Data: []dashboard.Response{}, Sync: &dashboard.SyncReport{
			Providers: map[string]dashboard.ProviderSync{"red": {Status: xiiapi.StatusTimeout, Error: "no answer"}},
		}})
	}
}

// Answers that come back late make the dashboard leave them more time:
// answers 150ms past their budget, cut off by the deadline, each double
// the reserve until the budgets leave room for the way back, and from
// then on the client gets 200 incomplete, not 504. With the fixed margin
// of a tenth of the deadline (100ms of 1s) every answer here was a 504.
func TestLateAnswersWidenTheReserve(t *testing.T) {
	c, register := newTestClient(t, Config{})
	fake := newFake(t, "starved")
	fake.set(starvedReplica(150 * time.Millisecond))
	register("starved", fake.URL)
	waitReplicas(t, c, 1)
	srv := newDashboard(t, c)
	header := http.Header{"Request-Timeout": {"1s"}}

	learnt := false
	for i := range 5 {
		resp, body, err := get(t, t.Context(), srv.URL+"/api/v1/responses", header)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			learnt = true
			break
		}
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("answer %d while learning: status %d: %s", i+1, resp.StatusCode, body)
		}
	}
	if !learnt {
		t.Fatal("5 answers, each 150ms past its budget, and the reserve still leaves no room for the way back")
	}
	for i := range 3 {
		resp, body, err := get(t, t.Context(), srv.URL+"/api/v1/responses", header)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get(dashboard.SyncCompleteHeader) != "false" || !strings.Contains(body, `"status":"timeout"`) {
			t.Fatalf("answer %d after the reserve fits: status %d: %s", i+1, resp.StatusCode, body)
		}
	}
}

// A replica that sheds the call (503, its in-flight bound reached) is
// passed over for the next; when every one sheds, the client gets 503
// with Retry-After, not a 502 or a 504.
func TestShedCallsAnswer503WithRetryAfter(t *testing.T) {
	c, register := newTestClient(t, Config{})
	shedding := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, "", map[string]string{"error": "too many requests in flight; retry shortly", "code": "overloaded"})
	}
	a, b := newFake(t, "a"), newFake(t, "b")
	a.set(shedding)
	register("a", a.URL)
	register("b", b.URL)
	waitReplicas(t, c, 2)
	srv := newDashboard(t, c)
	for range 4 {
		if resp, body, err := get(t, t.Context(), srv.URL+"/api/v1/responses", nil); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("one replica shedding: %v, %v: %s", resp, err, body)
		}
	}
	b.set(shedding)
	resp, body, err := get(t, t.Context(), srv.URL+"/api/v1/responses", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("every replica shedding: status %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// An answer cut off by the deadline in the middle of its body is a
// timeout (504), not an unusable answer (502): the aggregator did answer,
// only too late for the rest of it to arrive.
func TestAnswerCutByTheDeadlineIsATimeout(t *testing.T) {
	c, register := newTestClient(t, Config{})
	fake := newFake(t, "slow-body")
	fake.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(dashboard.SyncCompleteHeader, "true")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"data":[`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	register("slow-body", fake.URL)
	waitReplicas(t, c, 1)
	srv := newDashboard(t, c)
	resp, body, err := get(t, t.Context(), srv.URL+"/api/v1/responses", http.Header{"Request-Timeout": {"200ms"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d: %s, want 504", resp.StatusCode, body)
	}
}
