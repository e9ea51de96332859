package discovery

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/testkit/etcdtest"
	"xii/testkit/wait"
	"xii/testkit/watchtest"
)

// progressInterval is ample for an etcd under the race detector.
const progressInterval = 300 * time.Millisecond

// followed is a prefix followed with progress requests under a test's
// control.
type followed struct {
	cli               *clientv3.Client
	logs              *watchtest.Logs
	deliveries, calls *atomic.Int64
}

// followWithProgress follows a fresh prefix on its own etcd, each
// progress request passed to request with the real one, until the test
// ends.
func followWithProgress(t *testing.T, request func(ctx context.Context, n int64, real func(context.Context) error) error) followed {
	t.Helper()
	cli := etcdtest.Start(t).Client(t)
	logs := &watchtest.Logs{}
	deliveries, calls := &atomic.Int64{}, &atomic.Int64{}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		Follow(ctx, cli, "/test/progress/", FollowOptions{
			Logger:           logs.Logger(),
			ProgressInterval: progressInterval,
			RetryMax:         100 * time.Millisecond,
			requestProgress: func(ctx context.Context) error {
				return request(ctx, calls.Add(1), cli.RequestProgress)
			},
		}, func(map[string]Entry) { deliveries.Add(1) })
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	wait.For(t, "the first read", func() bool { return deliveries.Load() == 1 })
	return followed{cli: cli, logs: logs, deliveries: deliveries, calls: calls}
}

// A progress request whose answer does not come within one interval, as
// on a machine starved of CPU, does not make the follower give the watch
// up when the next one is answered. (With one interval allowed, the
// watch was given up at the first miss and the prefix read again.)
func TestFollowToleratesAMissedProgressAnswer(t *testing.T) {
	f := followWithProgress(t, func(ctx context.Context, n int64, real func(context.Context) error) error {
		if n == 1 {
			return nil // lost: etcd never hears of it
		}
		return real(ctx)
	})
	wait.For(t, "six progress requests", func() bool { return f.calls.Load() >= 6 })
	if lines := f.logs.Lines("not followed"); len(lines) > 0 {
		t.Fatalf("one unanswered progress request ended the watch:\n%s", f.logs)
	}
}

// A progress request that blocks (a starved etcd, a slow connection) does
// not stop the follower from reading the watch: a write made meanwhile is
// delivered, and no second request is sent while the first is out.
func TestFollowReadsTheWatchWhileAskingForProgress(t *testing.T) {
	release := make(chan struct{})
	var blocked atomic.Int64
	f := followWithProgress(t, func(ctx context.Context, n int64, real func(context.Context) error) error {
		if n == 1 {
			blocked.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return real(ctx)
	})
	defer close(release)
	wait.For(t, "the first progress request to block", func() bool { return blocked.Load() == 1 })
	if _, err := f.cli.Put(t.Context(), "/test/progress/a", "1"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the write delivered while a progress request blocks", func() bool { return f.deliveries.Load() == 2 })
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d progress requests, want the one still out", n)
	}
}

// A watch that answers no progress request at all is given up after
// ProgressMisses intervals, and the prefix read again.
func TestFollowGivesUpASilentWatch(t *testing.T) {
	f := followWithProgress(t, func(context.Context, int64, func(context.Context) error) error { return nil })
	wait.For(t, "the silent watch given up", func() bool { return len(f.logs.Lines("not followed", "no progress")) > 0 })
	wait.For(t, "the prefix read again", func() bool { return len(f.logs.Lines("read again")) > 0 })
}
