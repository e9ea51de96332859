package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	first, limit := 100*time.Millisecond, 2*time.Second
	for _, tc := range []struct {
		failures int
		lo, hi   time.Duration
	}{
		{0, 0, 0},
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{5, 800 * time.Millisecond, 1600 * time.Millisecond},
		{6, time.Second, 2 * time.Second},
		{1000, time.Second, 2 * time.Second},
	} {
		for range 50 {
			if d := Delay(tc.failures, first, limit); d < tc.lo || d > tc.hi {
				t.Fatalf("Delay(%d) = %s, want within [%s, %s]", tc.failures, d, tc.lo, tc.hi)
			}
		}
	}
}

func TestWait(t *testing.T) {
	if !Wait(t.Context(), 0, time.Hour, time.Hour) {
		t.Error("no failure: Wait should not wait, and report true")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if Wait(ctx, 3, time.Hour, time.Hour) {
		t.Error("ended context: Wait reported true")
	}
	if !Wait(t.Context(), 1, time.Millisecond, time.Millisecond) {
		t.Error("a short wait reported false")
	}
}
