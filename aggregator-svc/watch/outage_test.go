package watch_test

import (
	"fmt"
	"maps"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
	"xii/testkit/wait"
	"xii/testkit/watchtest"
)

// These tests stop, cut off or compact etcd, so each has its own.

// keptThrough fails t if a set delivered before the outage ended lacked
// name: an unreachable etcd must never empty the set.
func keptThrough(t *testing.T, p *providers, upTo int, name string) {
	t.Helper()
	for i, set := range p.sets.history()[:upTo] {
		if _, ok := set[name]; !ok {
			t.Errorf("set %d of %d lacks %s: %v", i+1, upTo, name, set)
		}
	}
}

// waitNoticed waits until p has logged that it cannot follow etcd, so an
// outage lasts long enough for a watcher that wrongly gave up to show it.
func waitNoticed(t *testing.T, p *providers) {
	t.Helper()
	wait.ForNil(t, "outage noticed", func() error {
		if len(p.logs.Lines("etcd prefix not followed")) == 0 {
			return fmt.Errorf("no failure logged; log:\n%s", p.logs)
		}
		return nil
	}, wait.Within(waitLimit))
}

func TestProvidersSurviveEtcdRestart(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := watchtest.Client(t, srv.Endpoints())
	putProvider(t, cli, "blue", "http://blue:1101", clientv3.NoLease)
	p := startProviders(t, cli)
	p.waitFor(t, waitLimit, map[string]string{"blue": "http://blue:1101"})

	srv.Stop()
	waitNoticed(t, p)
	srv.Restart(t)
	outageEnd := len(p.sets.history())

	putProvider(t, cli, "red", "http://red:1102", clientv3.NoLease)
	p.waitFor(t, waitLimit, map[string]string{"blue": "http://blue:1101", "red": "http://red:1102"})
	keptThrough(t, p, outageEnd, "blue")

	// Following again, not just once: the next change is as quick as ever.
	if _, err := cli.Delete(t.Context(), discovery.ProviderKey("blue")); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, visible, map[string]string{"red": "http://red:1102"})
}

func TestProvidersCatchUpAfterPartition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		progress time.Duration // how soon a quiet watch is given up
		compact  bool          // compact the changes away while cut off
		giveUp   bool          // wait for the watch to be given up before the cut ends
		logged   string        // what the log says when the watch ends, if it does
	}{
		{"watch given up and read again", 200 * time.Millisecond, false, true, ""},
		{"watch resumes", time.Minute, false, false, ""},
		{"watch resumes into compacted history", time.Minute, true, false, "compacted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := etcdtest.Start(t)
			writer := watchtest.Client(t, srv.Endpoints())
			proxy := etcdtest.NewProxy(t, srv.Endpoints()[0])
			cli := watchtest.Client(t, []string{proxy.Endpoint()})
			putProvider(t, writer, "blue", "http://blue:1101", clientv3.NoLease)
			p := startProviders(t, cli, tt.progress)
			p.waitFor(t, waitLimit, map[string]string{"blue": "http://blue:1101"})

			proxy.Cut()
			putProvider(t, writer, "red", "http://red:1102", clientv3.NoLease)
			putProvider(t, writer, "green", "http://green:1103", clientv3.NoLease)
			resp, err := writer.Delete(t.Context(), discovery.ProviderKey("blue"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.compact {
				if _, err := writer.Compact(t.Context(), resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
					t.Fatalf("compact: %v", err)
				}
			}
			if tt.giveUp {
				waitNoticed(t, p)
			}
			cutEnd := len(p.sets.history())
			if err := proxy.Restore(); err != nil {
				t.Fatal(err)
			}

			after := map[string]string{"red": "http://red:1102", "green": "http://green:1103"}
			p.waitFor(t, waitLimit, after)
			keptThrough(t, p, cutEnd, "blue")
			if tt.logged != "" && len(p.logs.Lines("etcd prefix not followed", tt.logged)) == 0 {
				t.Errorf("no log of the watch ending with %q; log:\n%s", tt.logged, p.logs)
			}
			putProvider(t, writer, "blue", "http://blue:2101", clientv3.NoLease)
			after = maps.Clone(after)
			after["blue"] = "http://blue:2101"
			p.waitFor(t, visible, after)
			p.onlyChanges(t)
		})
	}
}
