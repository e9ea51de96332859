package discovery_test

import (
	"context"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
)

func TestRegistrarPublishesUntilStopped(t *testing.T) {
	t.Parallel()
	cli := shared.Client(t)
	cfg := testConfig(t, shared.Endpoints(), "publish")
	r := newRegistrar(t, cfg)
	rn := start(t, r)

	st := waitStatus(t, r, "registered", registered)
	if st.LeaseID == 0 || st.Registrations != 1 {
		t.Fatalf("status %+v, want a lease and one registration", st)
	}
	if err := holds(t.Context(), cli, discovery.ProviderKey("publish"), cfg.Value, st.LeaseID); err != nil {
		t.Fatal(err)
	}
	ttl, err := cli.TimeToLive(t.Context(), clientv3.LeaseID(st.LeaseID))
	if err != nil {
		t.Fatalf("time to live: %v", err)
	}
	if ttl.GrantedTTL != 2 {
		t.Errorf("granted TTL %ds, want 2s", ttl.GrantedTTL)
	}

	if err := rn.stop(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	resp, err := cli.Get(t.Context(), r.Key())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if len(resp.Kvs) != 0 {
		t.Errorf("key still there after Run returned: %q", resp.Kvs[0].Value)
	}
	leaseGone(t, cli, st.LeaseID)
	if r.Registered() {
		t.Error("still registered after Run returned")
	}
}

func TestRegistrarRegistersAgain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		disturb func(ctx context.Context, cli *clientv3.Client, key string, lease int64) error
	}{
		{"key deleted", func(ctx context.Context, cli *clientv3.Client, key string, _ int64) error {
			_, err := cli.Delete(ctx, key)
			return err
		}},
		{"lease revoked", func(ctx context.Context, cli *clientv3.Client, _ string, lease int64) error {
			_, err := cli.Revoke(ctx, clientv3.LeaseID(lease))
			return err
		}},
		{"key overwritten", func(ctx context.Context, cli *clientv3.Client, key string, _ int64) error {
			_, err := cli.Put(ctx, key, `{"url":"http://elsewhere","dialect":"xii-v1"}`)
			return err
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cli := shared.Client(t)
			cfg := testConfig(t, shared.Endpoints(), "again-"+string(rune('a'+i)))
			r := newRegistrar(t, cfg)
			start(t, r)
			first := waitStatus(t, r, "registered", registered)

			if err := tc.disturb(t.Context(), cli, r.Key(), first.LeaseID); err != nil {
				t.Fatalf("disturb: %v", err)
			}
			again := waitStatus(t, r, "registered again", func(st discovery.Status) bool {
				return st.Registered && st.Registrations == 2
			})
			if again.LeaseID == first.LeaseID {
				t.Errorf("registered again under the old lease %x", first.LeaseID)
			}
			if err := holds(t.Context(), cli, r.Key(), cfg.Value, again.LeaseID); err != nil {
				t.Fatal(err)
			}
			leaseGone(t, cli, first.LeaseID)
		})
	}
}

func TestRegistrarLeaseExpiresWhenCutOff(t *testing.T) {
	t.Parallel()
	cli := shared.Client(t)
	proxy := etcdtest.NewProxy(t, shared.Endpoints()[0])
	cfg := testConfig(t, []string{proxy.Endpoint()}, "cut-off")
	r := newRegistrar(t, cfg)
	start(t, r)
	first := waitStatus(t, r, "registered", registered)

	resp, err := cli.Get(t.Context(), r.Key())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	events := cli.Watch(t.Context(), r.Key(), clientv3.WithRev(resp.Header.Revision+1))
	proxy.Cut() // the instance is as good as dead to etcd
	waitEvent(t, events, mvccpb.DELETE)
	leaseGone(t, cli, first.LeaseID)
	waitStatus(t, r, "noticed", func(st discovery.Status) bool { return !st.Registered })

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	again := waitStatus(t, r, "registered again", func(st discovery.Status) bool {
		return st.Registered && st.Registrations == 2
	})
	if err := holds(t.Context(), cli, r.Key(), cfg.Value, again.LeaseID); err != nil {
		t.Fatal(err)
	}
}

// waitEvent waits for an event of type typ on events.
func waitEvent(t *testing.T, events clientv3.WatchChan, typ mvccpb.Event_EventType) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		select {
		case wr, ok := <-events:
			if !ok || wr.Err() != nil {
				t.Fatalf("watch ended: %v", wr.Err())
			}
			for _, ev := range wr.Events {
				if ev.Type == typ {
					return
				}
			}
		case <-deadline.C:
			t.Fatalf("no %s event within %s", typ, waitLimit)
		}
	}
}

func TestRegistrarRunsOnce(t *testing.T) {
	t.Parallel()
	r := newRegistrar(t, testConfig(t, shared.Endpoints(), "once"))
	start(t, r)
	waitStatus(t, r, "registered", registered) // the first Run has begun
	if err := r.Run(t.Context()); err == nil {
		t.Error("second Run succeeded")
	}
}
