package discovery_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"xii/libs/discovery"
	"xii/testkit/wait"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFollowQuietPrefixStaysFollowed: against a healthy etcd, a prefix
// nobody writes to is followed without a break; etcd answers the
// follower's progress requests. (A watch that started at the revision
// after the read got no progress answers, and the follower warned every
// interval and re-read.) It also delivers a write once.
func TestFollowQuietPrefixStaysFollowed(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	cli := shared.Client(t)
	prefix := "/test/quiet/" + t.Name() + "/"
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	var deliveries []map[string]discovery.Entry
	done := make(chan struct{})
	go func() {
		defer close(done)
		discovery.Follow(ctx, cli, prefix, discovery.FollowOptions{
			Logger:           slog.New(slog.NewTextHandler(&logs, nil)),
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
	if out := logs.String(); bytes.Contains([]byte(out), []byte("not followed")) {
		t.Errorf("a quiet prefix on a healthy etcd was given up:\n%s", out)
	}
	if n := count(); n != 2 {
		t.Errorf("%d deliveries, want 2 (the read and the one write)", n)
	}
}
