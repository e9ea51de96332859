package discovery_test

import (
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/watchtest"
)

func TestNewElectorRejects(t *testing.T) {
	cli := watchtest.Client(t, shared.Endpoints())
	tests := []struct {
		name string
		cfg  discovery.ElectionConfig
	}{
		{"no id", discovery.ElectionConfig{}},
		{"negative ttl", discovery.ElectionConfig{ID: "a", TTL: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := discovery.NewElector(cli, tt.cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := discovery.NewElector(nil, discovery.ElectionConfig{ID: "a"}); err == nil {
		t.Error("accepted no client")
	}
}

func TestExactlyOneLeads(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d candidates", n), func(t *testing.T) {
			t.Parallel()
			prefix := election(t)
			cli := watchtest.Client(t, shared.Endpoints())
			cs := make([]candidate, n)
			for i := range cs {
				cs[i] = campaign(t, cli, prefix, fmt.Sprintf("c%d", i), 5*time.Second)
			}
			neverTwo(t, cs...)
			first := waitLeader(t, waitLimit, -1, cs...)
			waitCandidates(t, cli, prefix, int64(n))
			if got := leading(cs...); len(got) != 1 || got[0] != first {
				t.Errorf("candidates %v lead once all campaign, want only %d", got, first)
			}
		})
	}
}

func TestResignHandsOver(t *testing.T) {
	t.Parallel()
	// A TTL far longer than the wait: only resigning hands over in time.
	const ttl, handover = 60 * time.Second, 5 * time.Second
	prefix := election(t)
	cli := watchtest.Client(t, shared.Endpoints())
	a := campaign(t, cli, prefix, "a", ttl)
	waitLeader(t, waitLimit, 0, a)
	b := campaign(t, cli, prefix, "b", ttl)
	waitCandidates(t, cli, prefix, 2)
	neverTwo(t, a, b)

	if err := a.run.Stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if a.IsLeader() {
		t.Error("a still leads after its run returned")
	}
	waitLeader(t, handover, 1, a, b)
	waitCandidates(t, cli, prefix, 1)
}

func TestLeaderKeyDeleted(t *testing.T) {
	t.Parallel()
	prefix := election(t)
	cli := watchtest.Client(t, shared.Endpoints())
	a := campaign(t, cli, prefix, "a", 60*time.Second)
	waitLeader(t, waitLimit, 0, a)
	b := campaign(t, cli, prefix, "b", 60*time.Second)
	waitCandidates(t, cli, prefix, 2)

	// As etcdctl del would: the next candidate takes over, and a, which
	// campaigns again behind it, must notice it no longer leads.
	resp, err := cli.Get(t.Context(), prefix+"/", clientv3.WithFirstCreate()...)
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("leader key: %v, %d keys", err, len(resp.Kvs))
	}
	if _, err := cli.Delete(t.Context(), string(resp.Kvs[0].Key)); err != nil {
		t.Fatal(err)
	}
	// Far sooner than a's periodic check, a third of the TTL.
	waitLeader(t, 5*time.Second, 1, a, b)
	waitCandidates(t, cli, prefix, 2)
	if a.IsLeader() {
		t.Error("a leads again")
	}
}
