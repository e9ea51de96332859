package aggregate

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"xii/testkit/wait"
)

// TestSharedVersionJoinsOnlyReadsStartedAfter: a caller that arrives
// while a read runs is given the next read's version, never the running
// one's, which may have started before the caller's sync committed;
// callers arriving while that next read is queued share it.
func TestSharedVersionJoinsOnlyReadsStartedAfter(t *testing.T) {
	started := make(chan chan string)
	s := &sharedVersion{read: func(ctx context.Context) (string, error) {
		reply := make(chan string)
		select {
		case started <- reply:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return <-reply, nil
	}}
	type got struct {
		version string
		err     error
	}
	call := func() chan got {
		ch := make(chan got, 1)
		go func() {
			v, err := s.get(t.Context())
			ch <- got{v, err}
		}()
		return ch
	}
	queued := func(what string) {
		wait.For(t, what, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.queued != nil
		})
	}

	a := call()
	read1 := <-started
	b := call()
	queued("b queued behind the running read")
	read1 <- "v1"
	if r := <-a; r.version != "v1" {
		t.Fatalf("a got %+v, want v1", r)
	}
	read2 := <-started
	c := call()
	queued("c queued behind the second read")
	read2 <- "v2"
	if r := <-b; r.version != "v2" {
		t.Fatalf("b got %+v, want v2: a read that started after it came", r)
	}
	read3 := <-started
	read3 <- "v3"
	if r := <-c; r.version != "v3" {
		t.Fatalf("c got %+v, want v3", r)
	}
}

// TestSharedVersionUnderConcurrency: many callers share few reads, and
// each is given a read that started after it called.
func TestSharedVersionUnderConcurrency(t *testing.T) {
	var starts atomic.Int64
	s := &sharedVersion{read: func(context.Context) (string, error) {
		n := starts.Add(1)
		runtime.Gosched()
		return strconv.FormatInt(n, 10), nil
	}}
	const callers = 200
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			before := starts.Load()
			v, err := s.get(t.Context())
			if err != nil {
				errs <- err
				return
			}
			if n, _ := strconv.ParseInt(v, 10, 64); n <= before {
				errs <- fmt.Errorf("given read %d, but %d had started before the call", n, before)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d callers, %d reads", callers, starts.Load())
	if starts.Load() >= callers {
		t.Fatalf("%d reads for %d concurrent callers: none shared", starts.Load(), callers)
	}
}

// TestSharedVersionCallerLeavesOnItsDeadline: a caller whose context ends
// is not held by a slow read, and the read's failure reaches its callers.
func TestSharedVersionCallerLeavesOnItsDeadline(t *testing.T) {
	release := make(chan struct{})
	boom := errors.New("database down")
	s := &sharedVersion{read: func(context.Context) (string, error) {
		<-release
		return "", boom
	}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the caller's own", err)
	}
	close(release)
	if _, err := s.get(t.Context()); !errors.Is(err, boom) {
		t.Fatalf("err %v, want the read's", err)
	}
}
