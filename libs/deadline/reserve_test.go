package deadline

import (
	"testing"
	"time"
)

func TestReserve(t *testing.T) {
	r := NewReserve(20 * time.Millisecond)
	if got := r.Of(time.Second); got != 20*time.Millisecond {
		t.Fatalf("unmeasured: %v, want the floor 20ms", got)
	}
	if got := r.Of(30 * time.Millisecond); got != 15*time.Millisecond {
		t.Fatalf("short deadline: %v, want half of what is left", got)
	}
	r.Observe(100 * time.Millisecond)
	if got := r.Of(time.Second); got != 200*time.Millisecond {
		t.Fatalf("after a 100ms read: %v, want twice it", got)
	}
	r.Observe(4 * time.Millisecond)
	if got := r.Of(time.Second); got != 2*(100*time.Millisecond-96*time.Millisecond/16) {
		t.Fatalf("after a fast read: %v, want a sixteenth of the gap less", got)
	}
	for range 200 {
		r.Observe(time.Millisecond)
	}
	if got := r.Of(time.Second); got != 20*time.Millisecond {
		t.Fatalf("after many fast reads: %v, want the floor again", got)
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
