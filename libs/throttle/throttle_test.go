package throttle

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	th := New(10 * time.Second)
	t0 := time.Now()
	if ok, held := th.Allow("red", t0); !ok || held != 0 {
		t.Fatalf("first line: %v, %d; want it through", ok, held)
	}
	for i := range 5 {
		if ok, _ := th.Allow("red", t0.Add(time.Duration(i+1)*time.Second)); ok {
			t.Fatalf("line %d within the interval went through", i)
		}
	}
	if ok, _ := th.Allow("blue", t0.Add(time.Second)); !ok {
		t.Fatal("another key was held back")
	}
	if ok, held := th.Allow("red", t0.Add(11*time.Second)); !ok || held != 5 {
		t.Fatalf("after the interval: %v, %d held; want through, 5 held", ok, held)
	}
}
