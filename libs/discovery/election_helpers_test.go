package discovery_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/wait"
	"xii/testkit/watchtest"
)

// election is the prefix of an election of t's own.
func election(t *testing.T) string {
	return fmt.Sprintf("/test/%s/%x/election", t.Name(), rand.Uint64())
}

// candidate is a running Elector.
type candidate struct {
	*discovery.Elector
	run *watchtest.Running
}

// campaign runs a candidate named id in the election prefix on cli until t
// ends.
func campaign(t *testing.T, cli *clientv3.Client, prefix, id string, ttl time.Duration) candidate {
	t.Helper()
	e, err := discovery.NewElector(cli, discovery.ElectionConfig{Prefix: prefix, ID: id, TTL: ttl, RequestTimeout: time.Second,
		RetryMax: 200 * time.Millisecond, Logger: (&watchtest.Logs{}).Logger()})
	if err != nil {
		t.Fatal(err)
	}
	return candidate{Elector: e, run: watchtest.Go(t, e.Run)}
}

// leading returns the indexes of the candidates that lead.
func leading(cs ...candidate) []int {
	var idx []int
	for i, c := range cs {
		if c.IsLeader() {
			idx = append(idx, i)
		}
	}
	return idx
}

// waitLeader waits until exactly the candidate want leads, or any one
// when want is -1, and returns its index.
func waitLeader(t *testing.T, within time.Duration, want int, cs ...candidate) int {
	t.Helper()
	var got []int
	wait.ForNil(t, "one leader", func() error {
		got = leading(cs...)
		if len(got) != 1 || want >= 0 && got[0] != want {
			return fmt.Errorf("candidates %v lead, want exactly one (%d)", got, want)
		}
		return nil
	}, wait.Within(within))
	return got[0]
}

// waitCandidates waits until n candidates have a key in the election.
func waitCandidates(t *testing.T, cli *clientv3.Client, prefix string, n int64) {
	t.Helper()
	wait.ForNil(t, "candidates", func() error {
		resp, err := cli.Get(t.Context(), prefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return err
		}
		if resp.Count != n {
			return fmt.Errorf("%d candidate keys, want %d", resp.Count, n)
		}
		return nil
	}, wait.Within(waitLimit))
}

// neverTwo samples the candidates until t ends and fails t if two of them
// ever lead at once.
func neverTwo(t *testing.T, cs ...candidate) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var violation error
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if idx := leading(cs...); len(idx) > 1 && violation == nil {
				violation = fmt.Errorf("candidates %v lead at once", idx)
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		if violation != nil {
			t.Error(violation)
		}
	})
}
