package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
	"xii/testkit/watchtest"
)

// TestProvisionedAccess: after Provision each service's user may do what
// its job needs in etcd and nothing else, a client without credentials may
// do nothing, the health user nothing but tell that etcd answers, a
// survey instance's registrar registers with its own user, and Provision
// run again as root adds a survey instance and rotates a password.
func TestProvisionedAccess(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	access := discovery.Access{
		Root: "root-pw", Aggregator: "agg-pw", Dashboard: "dash-pw", Operator: "op-pw", Health: "health",
		Surveys: map[string]string{"blue": "blue-pw", "red": "red-pw"},
	}
	if err := discovery.Provision(t.Context(), srv.Client(t), access); err != nil {
		t.Fatalf("provision: %v", err)
	}

	client := func(user, pw string) *clientv3.Client {
		t.Helper()
		cli, err := discovery.NewClient(srv.Endpoints(), discovery.Auth{Username: user, Password: pw})
		if err != nil {
			t.Fatalf("etcd client as %q: %v", user, err)
		}
		t.Cleanup(func() { cli.Close() })
		return cli
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	put := func(cli *clientv3.Client, key string) error { _, err := cli.Put(ctx, key, "x"); return err }
	get := func(cli *clientv3.Client, prefix string) error {
		_, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
		return err
	}
	check := func(who, what string, err error, allowed bool) {
		t.Helper()
		switch {
		case allowed && err != nil:
			t.Errorf("%s may %s: %v", who, what, err)
		case !allowed && !errors.Is(err, rpctypes.ErrPermissionDenied) && !errors.Is(err, rpctypes.ErrUserEmpty):
			t.Errorf("%s must not %s, got %v", who, what, err)
		}
	}

	blue := client(discovery.SurveyUser("blue"), "blue-pw")
	check("blue", "write its provider key", put(blue, discovery.ProviderKey("blue")), true)
	check("blue", "write red's provider key", put(blue, discovery.ProviderKey("red")), false)
	check("blue", "read the settings", get(blue, discovery.ConfigPrefix), false)

	agg := client(discovery.UserAggregator, "agg-pw")
	check("the aggregator", "read the providers", get(agg, discovery.ProvidersPrefix), true)
	check("the aggregator", "read the retirements", get(agg, discovery.RetiredPrefix), true)
	check("the aggregator", "read its settings", get(agg, discovery.ConfigPrefix+"aggregator/"), true)
	check("the aggregator", "register", put(agg, discovery.ServiceKey("aggregator/a1")), true)
	check("the aggregator", "campaign", put(agg, discovery.DefaultElectionPrefix+"/1"), true)
	check("the aggregator", "write a provider key", put(agg, discovery.ProviderKey("evil")), false)
	check("the aggregator", "write a setting", put(agg, discovery.ConfigPrefix+"aggregator/page_size"), false)

	dash := client(discovery.UserDashboard, "dash-pw")
	check("the dashboard", "find the aggregators", get(dash, discovery.ServiceKey("aggregator/")), true)
	check("the dashboard", "read the providers", get(dash, discovery.ProvidersPrefix), false)
	check("the dashboard", "register as an aggregator", put(dash, discovery.ServiceKey("aggregator/evil")), false)

	op := client(discovery.UserOperator, "op-pw")
	check("the operator", "write a setting", put(op, discovery.ConfigPrefix+"aggregator/page_size"), true)
	check("the operator", "retire a provider", put(op, discovery.RetiredKey("red")), true)
	check("the operator", "configure a provider", put(op, discovery.ProviderKey("acme")), true)

	anon := client("", "")
	check("a client without credentials", "write", put(anon, discovery.ProviderKey("blue")), false)
	check("a client without credentials", "read", get(anon, "/xii/"), false)
	// What `etcdctl endpoint health` does: a live etcd denies the read.
	health := client(discovery.UserHealth, "health")
	if _, err := health.Get(ctx, "health"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("the health user's read: %v, want permission denied", err)
	}
	check("the health user", "read the providers", get(health, discovery.ProvidersPrefix), false)

	cfg := testConfig(t, srv.Endpoints(), "blue")
	cfg.Auth = discovery.Auth{Username: discovery.SurveyUser("blue"), Password: "blue-pw"}
	logs := &watchtest.Logs{}
	cfg.Logger = logs.Logger()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	r := newRegistrar(t, cfg)
	start(t, r)
	waitStatus(t, r, "registered with the instance's own user", registered)

	// Again, as root: a new instance, a rotated password.
	access.Surveys["green"] = "green-pw"
	access.Dashboard = "dash-pw-2"
	if err := discovery.Provision(ctx, client(discovery.UserRoot, "root-pw"), access); err != nil {
		t.Fatalf("provision again: %v", err)
	}
	check("green", "write its provider key", put(client(discovery.SurveyUser("green"), "green-pw"), discovery.ProviderKey("green")), true)
	check("the dashboard", "find the aggregators with its new password", get(client(discovery.UserDashboard, "dash-pw-2"), discovery.ServiceKey("aggregator/")), true)
	if err := get(client(discovery.UserDashboard, "dash-pw"), discovery.ServiceKey("aggregator/")); !errors.Is(err, rpctypes.ErrAuthFailed) {
		t.Errorf("the dashboard's old password: %v, want authentication failed", err)
	}
}

func TestAccessValidate(t *testing.T) {
	t.Parallel()
	ok := discovery.Access{Root: "r", Aggregator: "a", Dashboard: "d", Operator: "o", Surveys: map[string]string{"blue": "b"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid access: %v", err)
	}
	for name, a := range map[string]discovery.Access{
		"no root password":   {Aggregator: "a", Dashboard: "d", Operator: "o"},
		"no survey password": {Root: "r", Aggregator: "a", Dashboard: "d", Operator: "o", Surveys: map[string]string{"blue": ""}},
		"bad survey name":    {Root: "r", Aggregator: "a", Dashboard: "d", Operator: "o", Surveys: map[string]string{"a/b": "x"}},
	} {
		if err := a.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCredentialsBeforeEtcd: a client with credentials is made while etcd
// is down, as one without (a service starts during an etcd outage); it
// authenticates once etcd is up, and again after etcd restarts and has
// forgotten its token, for reads, writes and watches alike.
func TestCredentialsBeforeEtcd(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	access := discovery.Access{Root: "root-pw", Aggregator: "agg-pw", Dashboard: "d", Operator: "op-pw", Surveys: map[string]string{}}
	if err := discovery.Provision(t.Context(), srv.Client(t), access); err != nil {
		t.Fatalf("provision: %v", err)
	}
	srv.Stop()
	op, err := discovery.NewClient(srv.Endpoints(), discovery.Auth{Username: discovery.UserOperator, Password: "op-pw"})
	if err != nil {
		t.Fatalf("client with credentials while etcd is down: %v", err)
	}
	defer op.Close()
	agg, err := discovery.NewClient(srv.Endpoints(), discovery.Auth{Username: discovery.UserAggregator, Password: "agg-pw"})
	if err != nil {
		t.Fatalf("client with credentials while etcd is down: %v", err)
	}
	defer agg.Close()

	srv.Restart(t)
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	for i, round := range []string{"after start", "after a restart"} {
		if i > 0 {
			srv.Stop() // simple tokens live in etcd's memory: all are void after
			srv.Restart(t)
		}
		key := discovery.ProviderKey(fmt.Sprintf("p%d", i))
		put, err := op.Put(ctx, key, "x")
		if err != nil {
			t.Fatalf("%s: operator's write: %v", round, err)
		}
		if resp, err := agg.Get(ctx, key); err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("%s: aggregator's read: %v, %v", round, resp, err)
		}
		// A watch opened on a connection whose token etcd has forgotten may
		// end with that error once, as discovery.Follow expects of any
		// watch; the next one authenticates again.
		seen := false
		for range 2 {
			if seen = watchSees(ctx, agg, key, put.Header.Revision); seen {
				break
			}
		}
		if !seen {
			t.Fatalf("%s: two watches in a row did not see the write", round)
		}
	}
}

// watchSees reports whether a watch of key from rev delivers its write.
func watchSees(ctx context.Context, cli *clientv3.Client, key string, rev int64) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range cli.Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithRev(rev)) {
		if resp.Err() != nil {
			return false
		}
		for _, ev := range resp.Events {
			if string(ev.Kv.Key) == key {
				return true
			}
		}
	}
	return false
}
