package discovery_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"xii/libs/discovery"
	"xii/testkit/wait"
	"xii/testkit/watchtest"
)

// TestFollowQuietPrefixStaysFollowed: against a healthy etcd, a prefix
// nobody writes to is followed without a break; etcd answers the
// follower's progress requests. (A watch that started at the revision
// after the read got no progress answers, and the follower warned every
// interval and re-read.) It also delivers a write once.
func TestFollowQuietPrefixStaysFollowed(t *testing.T) {
	t.Parallel()
	logs := &watchtest.Logs{}
	cli := shared.Client(t)
	prefix := "/test/quiet/" + t.Name() + "/"
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	var deliveries []map[string]discovery.Entry
	done := make(chan struct{})
	go func() {
		defer close(done)
		discovery.Follow(ctx, cli, prefix, discovery.FollowOptions{
			Logger:           logs.Logger(),
			ProgressInterval: 300 * time.Millisecond, // ample for an etcd under the race detector
		}, func(m map[string]discovery.Entry) {
			mu.Lock()
			deliveries = append(deliveries, m)
			mu.Unlock()
		})
	}()
	defer func() { cancel(); <-done }()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(deliveries) }
	wait.For(t, "the first read", func() bool { return count() == 1 })
	// Eight progress intervals go by: the window in which a false dead-watch
	// verdict would show (it showed within two).
	for range 8 {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-done:
			t.Fatal("Follow ended")
		}
	}
	if _, err := cli.Put(ctx, prefix+"a", "1"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the write delivered", func() bool { return count() == 2 })
	if lines := logs.Lines("not followed"); len(lines) > 0 {
		t.Errorf("a quiet prefix on a healthy etcd was given up:\n%s", logs)
	}
	if n := count(); n != 2 {
		t.Errorf("%d deliveries, want 2 (the read and the one write)", n)
	}
}
