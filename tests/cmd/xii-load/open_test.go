package main

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenLoopSendsEveryDueRequest(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	o := openLoop(t.Context(), 1000, 100*time.Millisecond, 1000, func(context.Context) (int, bool, error) {
		// Nothing is answered before every request is sent: an open loop
		// does not wait for answers.
		n := calls.Add(1)
		if n == 100 {
			close(release)
		}
		<-release
		if n%4 == 0 {
			return http.StatusServiceUnavailable, false, nil
		}
		return http.StatusOK, true, nil
	})
	if o.sent != 100 || o.skipped != 0 || len(o.lat)+o.status[http.StatusServiceUnavailable] != 100 {
		t.Fatalf("sent %d, skipped %d, 200 %d, 503 %d; want 100 sent and answered", o.sent, o.skipped, len(o.lat), o.status[503])
	}
	if len(o.lat) != 75 || o.complete != 75 || o.inTime(time.Hour) != 100 {
		t.Fatalf("complete %d of %d, in time %d", o.complete, len(o.lat), o.inTime(time.Hour))
	}
}

func TestOpenLoopBoundsOutstanding(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	o := openLoop(t.Context(), 1000, 50*time.Millisecond, 10, func(context.Context) (int, bool, error) {
		if calls.Add(1) == 10 {
			go func() { close(release) }()
		}
		<-release
		return 0, false, errors.New("connection refused")
	})
	if o.sent+o.skipped != 50 || o.sent < 10 || o.errs["connection refused"] != o.sent || o.other() != o.sent {
		t.Fatalf("sent %d, skipped %d, errors %v; want 50 due, at least 10 sent, all failed", o.sent, o.skipped, o.errs)
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses, utime 250 and stime 50.
	line := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 0 0"
	got, err := parseStat(line)
	if err != nil || got != 3 {
		t.Fatalf("parseStat = %v, %v; want 3 s", got, err)
	}
	if _, err := parseStat("4242 (x) S 1"); err == nil {
		t.Fatal("a short line parsed")
	}
}

func TestParseMachine(t *testing.T) {
	a, err := parseMachine("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4 5\n")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := parseMachine("cpu  200 0 200 800 100 0 0 0 0 0\n")
	if got := b.busy(a); got != "67%" {
		t.Fatalf("busy = %s, want 67%%", got)
	}
}

func TestClosedLoopSendsOneAtATime(t *testing.T) {
	var inFlight, most, calls atomic.Int64
	o := closedLoop(t.Context(), 20*time.Millisecond, func(context.Context) (int, bool, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		if calls.Add(1)%2 == 0 {
			return http.StatusGatewayTimeout, false, nil
		}
		return http.StatusOK, true, nil
	})
	if most.Load() != 1 || o.sent != int(calls.Load()) || o.sent < 2 {
		t.Fatalf("at most %d at once, sent %d, calls %d; want one at a time, every call counted", most.Load(), o.sent, calls.Load())
	}
	if len(o.lat)+o.status[http.StatusGatewayTimeout] != o.sent || o.complete != len(o.lat) || o.elapsed < 20*time.Millisecond {
		t.Fatalf("200 %d, 504 %d, complete %d, elapsed %s", len(o.lat), o.status[504], o.complete, o.elapsed)
	}
}

func TestPidLabels(t *testing.T) {
	got, err := pidLabels([]int{3, 4}, "harness, dashboard")
	if err != nil || len(got) != 2 || got[0] != "harness" || got[1] != "dashboard" {
		t.Fatalf("pidLabels = %q, %v", got, err)
	}
	if got, _ := pidLabels([]int{3}, ""); len(got) != 1 || got[0] != "pid 3" {
		t.Fatalf("unnamed: %q", got)
	}
	if _, err := pidLabels([]int{3, 4}, "harness"); err == nil {
		t.Fatal("one name for two pids accepted")
	}
}
