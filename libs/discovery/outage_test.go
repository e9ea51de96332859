package discovery_test

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
	"xii/testkit/wait"
)

// These tests stop etcd, so each has its own.

func TestRegistrarSurvivesEtcdRestart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// outage runs while etcd is stopped.
		outage func(t *testing.T, r *discovery.Registrar)
		// registrations is how many there are once etcd is back.
		registrations int
	}{
		{"brief", func(*testing.T, *discovery.Registrar) {}, 1},
		{"longer than the TTL", func(t *testing.T, r *discovery.Registrar) {
			waitStatus(t, r, "noticed", func(st discovery.Status) bool { return !st.Registered })
		}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := etcdtest.Start(t)
			cli := srv.Client(t)
			cfg := testConfig(t, srv.Endpoints(), "restart")
			r := newRegistrar(t, cfg)
			start(t, r)
			first := waitStatus(t, r, "registered", registered)

			srv.Stop()
			tc.outage(t, r)
			srv.Restart(t)

			st := waitStatus(t, r, "registered after the restart", func(st discovery.Status) bool {
				return st.Registered && st.Registrations == tc.registrations
			})
			wait.ForNil(t, "registration after the restart", func() error {
				return holds(t.Context(), cli, r.Key(), cfg.Value, st.LeaseID)
			})
			if st.LeaseID != first.LeaseID {
				leaseGone(t, cli, first.LeaseID)
			}

			// Still supervised: the watch and the lease survived the restart.
			if _, err := cli.Revoke(t.Context(), clientv3.LeaseID(st.LeaseID)); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			again := waitStatus(t, r, "registered after the revocation", func(s discovery.Status) bool {
				return s.Registered && s.Registrations == st.Registrations+1
			})
			if err := holds(t.Context(), cli, r.Key(), cfg.Value, again.LeaseID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRegistrarStartsBeforeEtcd(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	srv.Stop()
	cfg := testConfig(t, srv.Endpoints(), "early")
	r := newRegistrar(t, cfg)
	rn := start(t, r)
	if r.Registered() {
		t.Fatal("registered while etcd is down")
	}

	srv.Restart(t)
	st := waitStatus(t, r, "registered", registered)
	select {
	case err := <-rn.done:
		t.Fatalf("run returned while etcd was down: %v", err)
	default:
	}
	if err := holds(t.Context(), srv.Client(t), r.Key(), cfg.Value, st.LeaseID); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrarShutdownIsBoundedWhileEtcdIsDown(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cfg := testConfig(t, srv.Endpoints(), "bounded")
	r := newRegistrar(t, cfg)
	rn := start(t, r)
	waitStatus(t, r, "registered", registered)
	srv.Stop()

	begin := time.Now()
	err := rn.stop(t)
	if err == nil {
		t.Error("run reported a deregistration that could not happen")
	}
	if took, limit := time.Since(begin), cfg.DeregisterTimeout+time.Second; took > limit {
		t.Errorf("shutdown took %s, want at most %s", took, limit)
	}
}
