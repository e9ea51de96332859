package discovery_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"xii/testkit/etcdtest"
	"xii/testkit/wait"
	"xii/testkit/watchtest"
)

// ttl is the shortest lease etcd grants; it bounds how long a candidate cut
// off from etcd may go on believing it leads.
const ttl = time.Second

func TestCutOffLeaderStepsDown(t *testing.T) {
	t.Parallel()
	prefix := election(t)
	proxy := etcdtest.NewProxy(t, shared.Endpoints()[0])
	cutOff := watchtest.Client(t, []string{proxy.Endpoint()})
	cli := watchtest.Client(t, shared.Endpoints())
	a := campaign(t, cutOff, prefix, "a", ttl)
	waitLeader(t, waitLimit, 0, a)
	b := campaign(t, cli, prefix, "b", ttl)
	waitCandidates(t, cli, prefix, 2)
	neverTwo(t, a, b)

	proxy.Cut()
	// Its last renewal was sent before the cut, so within a TTL.
	wait.ForNil(t, "a steps down", func() error {
		if a.IsLeader() {
			return errors.New("a still leads")
		}
		return nil
	}, wait.Within(ttl))
	waitLeader(t, waitLimit, 1, a, b)

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	waitCandidates(t, cli, prefix, 2) // a campaigns again, behind b
	if got := leading(a, b); len(got) != 1 || got[0] != 1 {
		t.Errorf("candidates %v lead after a is back, want b (1) only", got)
	}
}

func TestNobodyLeadsWhileEtcdIsDown(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	prefix := election(t)
	a := campaign(t, watchtest.Client(t, srv.Endpoints()), prefix, "a", ttl)
	b := campaign(t, watchtest.Client(t, srv.Endpoints()), prefix, "b", ttl)
	neverTwo(t, a, b)
	waitLeader(t, waitLimit, -1, a, b)

	srv.Stop()
	wait.ForNil(t, "nobody leads", func() error {
		if got := leading(a, b); len(got) != 0 {
			return fmt.Errorf("candidates %v lead", got)
		}
		return nil
	}, wait.Within(ttl))
	srv.Restart(t)
	waitLeader(t, waitLimit, -1, a, b)
}
