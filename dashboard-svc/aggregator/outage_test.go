package aggregator

import (
	"context"
	"testing"

	"xii/dashboard-svc/dashboard"
	"xii/testkit/etcdtest"
	"xii/testkit/wait"
)

// TestEtcdOutageKeepsKnownReplicas: while etcd is down the client keeps
// calling the replicas it knew; once etcd is back it follows changes
// again.
func TestEtcdOutageKeepsKnownReplicas(t *testing.T) {
	etcd := etcdtest.Start(t)
	c, err := New(Config{EtcdEndpoints: etcd.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cli := etcd.Client(t)
	first, second := newFake(t, "first"), newFake(t, "second")
	if _, err := cli.Put(t.Context(), Prefix+"first", first.URL); err != nil {
		t.Fatal(err)
	}
	waitReplicas(t, c, 1)

	etcd.Stop()
	for range 3 {
		if _, err := c.Responses(t.Context(), dashboard.Query{}); err != nil {
			t.Fatalf("during the outage: %v", err)
		}
	}
	if err := c.Ready(t.Context()); err != nil {
		t.Fatalf("not ready during the outage: %v", err)
	}

	etcd.Restart(t)
	wait.For(t, "etcd back", func() bool {
		_, err := cli.Put(context.WithoutCancel(t.Context()), Prefix+"second", second.URL)
		return err == nil
	})
	waitReplicas(t, c, 2)
	wait.For(t, "the new replica asked", func() bool {
		_, err := c.Responses(t.Context(), dashboard.Query{})
		return err == nil && second.count() > 0
	})
}
