package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xii/libs/xiiapi"
)

// TestLevelChecksFreshnessAndCountsFetches runs one closed-loop level
// against a fake dashboard that leaves the acknowledged write out of every
// other complete answer, and a fake aggregator whose fetch count grows by
// 3 per request.
func TestLevelChecksFreshnessAndCountsFetches(t *testing.T) {
	var requests atomic.Int64
	var f *freshness
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			fmt.Fprintf(w, "xii_fetch_duration_seconds_count{provider=\"blue\",status=\"ok\"} %d\n", 3*requests.Load())
			return
		}
		n := requests.Add(1)
		want, _ := f.want()
		rows := []xiiapi.Response{{Text: "older", CreatedAt: want.createdAt.Add(-time.Hour)}}
		if n%2 == 0 {
			rows = append([]xiiapi.Response{{Text: want.text, CreatedAt: want.createdAt}}, rows...)
		}
		w.Header().Set(syncCompleteHeader, "true")
		fmt.Fprint(w, string(page(t, rows...)))
	}))
	defer srv.Close()
	target := srv.URL + "/api/v1/responses?device=iOS&location=Germany&limit=50"
	var err error
	if f, err = newFreshness(target); err != nil {
		t.Fatal(err)
	}
	if err := f.acked([]byte(`{"text":"fresh x #1","created_at":"2026-12-01T10:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := &openRun{stdout: &out, client: srv.Client(), target: target, deadline: time.Second,
		procs: []int{os.Getpid()}, names: []string{"harness"}, aggregator: srv.URL, round: time.Millisecond, fresh: f}
	if err := r.level(t.Context(), "1 (closed)", func(do call) openResult {
		o := newOpenResult()
		for range 10 {
			o.sent++
			status, complete, err := do(t.Context())
			o.record(time.Millisecond, status, complete, err)
		}
		o.done(time.Now().Add(-time.Second))
		return o
	}); err != nil {
		t.Fatal(err)
	}
	row := strings.Fields(out.String())
	// The label "1 (closed)" is two fields: complete is field 8, stale 9, fetches/req 14.
	if len(row) < 16 || row[9] != "5/10" || row[14] != "3.000" || row[8] != "100.0%" {
		t.Fatalf("row %q: want 5 stale of 10 checked, 3 fetches per request, all complete", out.String())
	}
	if !strings.Contains(out.String(), "cpu/answer by process: harness ") {
		t.Fatalf("no per-process CPU in %q", out.String())
	}
}
