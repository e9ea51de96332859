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
