// Package wait lets a test wait on a condition instead of sleeping: it
// checks the condition every few milliseconds and fails the test, naming what
// it waited for, when the condition does not hold in time.
package wait

import (
	"testing"
	"time"
)

// Limit is how long For and ForNil wait unless Within says otherwise. It is
// generous because only a failing test reaches it, and a loaded machine
// (-race, two cores) makes slow successes of what takes milliseconds alone.
const Limit = 30 * time.Second

// Interval is the pause between two checks.
const Interval = 10 * time.Millisecond

// Option changes how For and ForNil wait.
type Option func(*waiter)

type waiter struct {
	limit   time.Duration
	explain func() string
}

// Within makes the wait fail after d instead of Limit.
func Within(d time.Duration) Option {
	return func(w *waiter) { w.limit = d }
}

// Explain adds explain's text to the failure. It is called once, on
// timeout, so it may gather what is too costly to gather at every check.
func Explain(explain func() string) Option {
	return func(w *waiter) { w.explain = explain }
}

// For checks cond every Interval until it holds, and fails tb with
// "timed out waiting for <what>" when it still does not after Limit. Like
// tb.Fatal, it must be called from the goroutine running the test.
func For(tb testing.TB, what string, cond func() bool, opts ...Option) {
	tb.Helper()
	poll(tb, what, func() (bool, error) { return cond(), nil }, opts)
}

// ForNil calls check every Interval until it returns nil, and fails tb with
// "timed out waiting for <what>: <check's last error>" when it still does
// not after Limit. Like tb.Fatal, it must be called from the goroutine
// running the test.
func ForNil(tb testing.TB, what string, check func() error, opts ...Option) {
	tb.Helper()
	poll(tb, what, func() (bool, error) { err := check(); return err == nil, err }, opts)
}

func poll(tb testing.TB, what string, check func() (bool, error), opts []Option) {
	tb.Helper()
	w := waiter{limit: Limit}
	for _, o := range opts {
		o(&w)
	}
	deadline := time.Now().Add(w.limit)
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	for {
		ok, err := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			msg := "timed out waiting for " + what
			if err != nil {
				msg += ": " + err.Error()
			}
			if w.explain != nil {
				msg += "; " + w.explain()
			}
			tb.Fatal(msg)
		}
		<-tick.C
	}
}
