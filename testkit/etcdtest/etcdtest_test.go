package etcdtest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"xii/testkit/etcdtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestServerRestartKeepsDataAndPorts(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	endpoints := srv.Endpoints()
	cli := srv.Client(t)
	if _, err := cli.Put(t.Context(), "k", "v"); err != nil {
		t.Fatalf("put: %v", err)
	}
	watch := cli.Watch(t.Context(), "k") // an open stream must not slow Stop down

	begin := time.Now()
	srv.Stop()
	if took := time.Since(begin); took > 3*time.Second {
		t.Errorf("stop took %s with a watch open", took)
	}
	if err := get(t.Context(), cli, "k", 300*time.Millisecond); err == nil {
		t.Fatal("read succeeded while stopped")
	}

	srv.Restart(t)
	if !slices.Equal(srv.Endpoints(), endpoints) {
		t.Errorf("endpoints moved from %v to %v", endpoints, srv.Endpoints())
	}
	if err := get(t.Context(), cli, "k", 10*time.Second); err != nil {
		t.Fatalf("read after restart with the old client: %v", err)
	}
	if _, err := cli.Put(t.Context(), "k", "w"); err != nil {
		t.Fatalf("put after restart: %v", err)
	}
	// A resumed watch may deliver the event it started at again, so look
	// for the new one among all.
	deadline := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case wr := <-watch:
			for _, ev := range wr.Events {
				seen = seen || string(ev.Kv.Value) == "w"
			}
		case <-deadline:
			t.Fatal("watch did not resume after the restart")
		}
	}
}

func TestProxyCutAndRestore(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	proxy := etcdtest.NewProxy(t, srv.Endpoints()[0])
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{proxy.Endpoint()},
		DialTimeout: time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(t.Context(), "k", "v"); err != nil {
		t.Fatalf("put through the proxy: %v", err)
	}

	proxy.Cut()
	if err := get(t.Context(), cli, "k", 300*time.Millisecond); err == nil {
		t.Fatal("read through a cut proxy succeeded")
	}
	if err := get(t.Context(), srv.Client(t), "k", 5*time.Second); err != nil {
		t.Fatalf("etcd itself unreachable: %v", err)
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	if err := get(t.Context(), cli, "k", 10*time.Second); err != nil {
		t.Fatalf("read after restore: %v", err)
	}
}

func TestNewForTestMain(t *testing.T) {
	t.Parallel()
	srv, err := etcdtest.New()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.Client(t).Put(t.Context(), "k", "v"); err != nil {
		t.Fatalf("put: %v", err)
	}
}

// get reads key within timeout; etcd clients wait for a connection, so
// the timeout decides how long an unreachable server is waited for.
func get(ctx context.Context, cli *clientv3.Client, key string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := cli.Get(ctx, key)
	return err
}
