package discovery_test

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
	"xii/testkit/watchtest"
)

// TestRegistrarWithEtcdAuth: with authentication on in etcd, a survey
// instance's user may write its own provider key and no other; the
// registrar registers with it, and a client without credentials is refused.
func TestRegistrarWithEtcdAuth(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	root := srv.Client(t)
	ctx := t.Context()
	steps := []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "provider-blue"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "provider-blue", discovery.ProviderKey("blue"), "", clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "survey-blue", "blue-pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "survey-blue", "provider-blue"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("auth set-up step %d: %v", i, err)
		}
	}

	blue := discovery.Auth{Username: "survey-blue", Password: "blue-pw"}
	cfg := testConfig(t, srv.Endpoints(), "blue")
	cfg.Auth = blue
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

	cli, err := discovery.NewClient(srv.Endpoints(), blue)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Put(wctx, discovery.ProviderKey("red"), `{"url":"http://evil","dialect":"xii-v1"}`); err == nil {
		t.Error("blue's user wrote red's provider key")
	}
	anon, err := discovery.NewClient(srv.Endpoints(), discovery.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := anon.Put(wctx, discovery.ProviderKey("blue"), "x"); err == nil {
		t.Error("a client without credentials wrote to etcd")
	}
}
