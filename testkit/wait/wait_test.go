package wait_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"xii/testkit/wait"
)

// recorder stands in for a test: Fatal records the message and ends the
// goroutine, as testing's does.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) {
	r.failure = fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls f with a recorder on a goroutine of its own, so that Fatal can
// end it, and returns the recorded failure ("" when f returned).
func run(f func(tb testing.TB)) string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failure
}

func TestForReturnsOnceCondHolds(t *testing.T) {
	t.Parallel()
	calls := 0
	failure := run(func(tb testing.TB) {
		wait.For(tb, "the third call", func() bool { calls++; return calls == 3 })
	})
	if failure != "" || calls != 3 {
		t.Fatalf("failure %q after %d calls, want none after 3", failure, calls)
	}
}

func TestForFailsAfterTheLimit(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	failure := run(func(tb testing.TB) {
		wait.For(tb, "never", func() bool { return false }, wait.Within(50*time.Millisecond))
	})
	if want := "timed out waiting for never"; failure != want {
		t.Errorf("failure %q, want %q", failure, want)
	}
	if took := time.Since(begin); took < 50*time.Millisecond || took > 5*time.Second {
		t.Errorf("failed after %s, want about 50ms", took)
	}
}

func TestForNilReportsTheLastError(t *testing.T) {
	t.Parallel()
	calls := 0
	failure := run(func(tb testing.TB) {
		wait.ForNil(tb, "the key", func() error {
			calls++
			return fmt.Errorf("missing after %d calls", calls)
		}, wait.Within(30*time.Millisecond))
	})
	if want := fmt.Sprintf("timed out waiting for the key: missing after %d calls", calls); failure != want {
		t.Errorf("failure %q, want %q", failure, want)
	}

	failure = run(func(tb testing.TB) {
		wait.ForNil(tb, "nothing", func() error { return nil })
	})
	if failure != "" {
		t.Errorf("failure %q when check returned nil", failure)
	}
}

func TestExplainIsCalledOnceOnTimeout(t *testing.T) {
	t.Parallel()
	explained := 0
	explain := wait.Explain(func() string { explained++; return "two open transactions" })

	failure := run(func(tb testing.TB) {
		wait.For(tb, "nothing", func() bool { return true }, explain)
	})
	if failure != "" || explained != 0 {
		t.Errorf("failure %q, explain called %d times, when cond held", failure, explained)
	}

	failure = run(func(tb testing.TB) {
		wait.ForNil(tb, "the cursor", func() error { return errors.New("behind") },
			wait.Within(20*time.Millisecond), explain)
	})
	if want := "timed out waiting for the cursor: behind; two open transactions"; failure != want || explained != 1 {
		t.Errorf("failure %q, explain called %d times, want %q once", failure, explained, want)
	}
}
