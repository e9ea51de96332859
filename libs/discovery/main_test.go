package discovery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
)

// shared is one etcd for the tests that do not stop it.
var shared *etcdtest.Server

// waitLimit bounds every wait; the conditions waited for take well under
// ten seconds even under the race detector.
const waitLimit = 20 * time.Second

func TestMain(m *testing.M) { etcdtest.Main(m, &shared) }

// testConfig is a registrar of name, quick to notice and recover, for a
// provider on endpoints.
func testConfig(t *testing.T, endpoints []string, name string) discovery.RegistrarConfig {
	t.Helper()
	value, err := discovery.Descriptor{URL: "http://127.0.0.1:1101", Dialect: discovery.DialectXII}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return discovery.RegistrarConfig{
		Endpoints:         endpoints,
		Prefix:            discovery.ProvidersPrefix,
		Name:              name,
		Value:             value,
		TTL:               2 * time.Second,
		DialTimeout:       time.Second,
		RetryMax:          300 * time.Millisecond,
		DeregisterTimeout: time.Second,
	}
}

func newRegistrar(t *testing.T, cfg discovery.RegistrarConfig) *discovery.Registrar {
	t.Helper()
	r, err := discovery.NewRegistrar(cfg)
	if err != nil {
		t.Fatalf("new registrar: %v", err)
	}
	return r
}

// running is a Registrar's Run in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs r until stop is called or t ends.
func start(t *testing.T, r *discovery.Registrar) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rn := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { rn.done <- r.Run(ctx) }()
	t.Cleanup(func() { rn.stop(t) })
	return rn
}

// stop cancels Run's context and returns Run's result.
func (rn *running) stop(t *testing.T) error {
	t.Helper()
	rn.once.Do(func() {
		rn.cancel()
		select {
		case rn.err = <-rn.done:
		case <-time.After(waitLimit):
			rn.err = fmt.Errorf("run did not return within %s of its context ending", waitLimit)
		}
	})
	return rn.err
}

// waitStatus waits until ok accepts r's status and returns that status.
func waitStatus(t *testing.T, r *discovery.Registrar, what string, ok func(discovery.Status) bool) discovery.Status {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		st, changed := r.Status()
		if ok(st) {
			return st
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("registrar never %s; status %+v", what, st)
		}
	}
}

func registered(st discovery.Status) bool { return st.Registered }

// holds returns nil when key holds value under lease.
func holds(ctx context.Context, cli *clientv3.Client, key, value string, lease int64) error {
	resp, err := cli.Get(ctx, key)
	switch {
	case err != nil:
		return err
	case len(resp.Kvs) == 0:
		return fmt.Errorf("key %s is missing", key)
	case string(resp.Kvs[0].Value) != value:
		return fmt.Errorf("key %s = %q, want %q", key, resp.Kvs[0].Value, value)
	case resp.Kvs[0].Lease != lease:
		return fmt.Errorf("key %s has lease %x, want %x", key, resp.Kvs[0].Lease, lease)
	}
	return nil
}

// leaseGone fails t unless lease no longer exists.
func leaseGone(t *testing.T, cli *clientv3.Client, lease int64) {
	t.Helper()
	resp, err := cli.TimeToLive(t.Context(), clientv3.LeaseID(lease))
	if err != nil {
		t.Fatalf("lease %x time to live: %v", lease, err)
	}
	if resp.TTL != -1 {
		t.Errorf("lease %x still has %ds to live", lease, resp.TTL)
	}
}
