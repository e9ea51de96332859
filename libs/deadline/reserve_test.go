package deadline

import (
	"testing"
	"time"
)

func TestReserve(t *testing.T) {
	r := NewReserve(20 * time.Millisecond)
	t0 := time.Unix(1000, 0)
	if got := r.of(time.Second, t0); got != 20*time.Millisecond {
		t.Fatalf("unmeasured: %v, want the floor 20ms", got)
	}
	if got := r.of(30*time.Millisecond, t0); got != 15*time.Millisecond {
		t.Fatalf("short deadline: %v, want half of what is left", got)
	}
	r.observeAt(100*time.Millisecond, t0)
	if got := r.of(time.Second, t0); got != 200*time.Millisecond {
		t.Fatalf("after a 100ms read: %v, want twice it", got)
	}
	// Faster reads do not lower it at once, whatever their number.
	for range 1000 {
		r.observeAt(time.Millisecond, t0)
	}
	if got := r.of(time.Second, t0); got != 200*time.Millisecond {
		t.Fatalf("after fast reads at the same time: %v, want 200ms still", got)
	}
	// One half-life on, half of it is left.
	if got := r.of(time.Second, t0.Add(ReserveHalfLife)); got != 100*time.Millisecond {
		t.Fatalf("one half-life on: %v, want 100ms", got)
	}
	// A slower read raises it at once.
	r.observeAt(300*time.Millisecond, t0.Add(ReserveHalfLife))
	if got := r.of(time.Second, t0.Add(ReserveHalfLife)); got != 500*time.Millisecond {
		t.Fatalf("after a 300ms read: %v, want half the time left, 500ms", got)
	}
	if got := r.of(time.Second, t0.Add(20*ReserveHalfLife)); got != 20*time.Millisecond {
		t.Fatalf("long after: %v, want the floor again", got)
	}
}

func TestValidateReserve(t *testing.T) {
	for _, d := range []time.Duration{MinReserve, DefaultReserve, MaxReserve} {
		if err := ValidateReserve(d); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
	for _, d := range []time.Duration{0, MinReserve - 1, MaxReserve + 1} {
		if ValidateReserve(d) == nil {
			t.Errorf("%v accepted", d)
		}
	}
}
