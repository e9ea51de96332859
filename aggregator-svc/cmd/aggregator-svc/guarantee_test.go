package main

import (
	"context"
	"slices"
	"testing"

	"xii/libs/discovery"
	"xii/testkit/pgtest"
	"xii/testkit/wait"
)

// The covered provider set is durable: these tests break the two ways an
// aggregator could answer "complete" while a provider's acknowledged
// responses were missing — a provider whose lease expired, and a replica
// that answered before it knew its providers.

// hasRow reports whether the answer holds provider's response id.
func hasRow(b responsesBody, provider, id string) bool {
	return slices.ContainsFunc(b.Data, func(r response) bool { return r.Provider == provider && r.ProviderID == id })
}

// TestProviderDownPastItsLease: a provider killed with an acknowledged
// response unsynced drops out of etcd when its lease ends; it stays
// covered, reported unavailable, until it is back and synced.
func TestProviderDownPastItsLease(t *testing.T) {
	log := newTestLog(t)
	p := &survey{name: uniqueName("p1-"), addr: freeAddr(t), db: pgtest.NewDatabase(t)}
	p.start(t, log)
	agg := startAggregator(t, log)
	waitForProviders(t, agg, p.name)

	// Acknowledged, then the provider dies before any sync saw it.
	id := post(t, p.url(), "lease", "iOS")
	p.kill(t)
	cli := etcd.Client(t)
	wait.For(t, "the lease to expire", func() bool {
		resp, err := cli.Get(context.Background(), discovery.ProviderKey(p.name))
		return err == nil && len(resp.Kvs) == 0
	})

	got, _ := agg.query(t, "survey", "lease", "timeout", "500ms")
	st, named := got.Sync.Providers[p.name]
	if got.Sync.Complete || !named || st.Status != "unavailable" || st.Error == "" {
		t.Fatalf("after the lease expired: complete=%v, %s reported %+v (named %v); want incomplete, unavailable with a reason",
			got.Sync.Complete, p.name, st, named)
	}

	p.start(t, log)
	wait.For(t, "the provider back and synced", func() bool {
		got, _ := agg.query(t, "survey", "lease")
		return got.Sync.Complete && hasRow(got, p.name, id)
	})
}

// TestRestartWithoutEtcd: a replica that starts while etcd is out of reach
// answers, but never "complete": the providers its aggregate knows are
// named unavailable, and an empty set is not known to be empty. It is not
// ready meanwhile.
func TestRestartWithoutEtcd(t *testing.T) {
	log := newTestLog(t)
	blue := uniqueName("blue-")
	startSurvey(t, blue, log)
	first := startAggregator(t, log)
	waitForProviders(t, first, blue)
	first.stop()

	noEtcd := "http://" + freeAddr(t) // nothing listens there
	for _, tt := range []struct {
		name string
		db   string
		want []string // providers named
	}{
		{"known providers", first.db, []string{blue}},
		{"empty aggregate", "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			agg := launchAggregator(t, log, map[string]string{"XII_POSTGRES_URL": tt.db, "XII_ETCD_ENDPOINTS": noEtcd})
			if code := agg.status("/readyz"); code == 200 {
				t.Errorf("/readyz = 200 before the provider set was read")
			}
			got, _ := agg.query(t, "timeout", "300ms")
			if got.Sync.Complete {
				t.Fatalf("complete without having read etcd: %+v", got.Sync)
			}
			var named []string
			for name, st := range got.Sync.Providers {
				named = append(named, name)
				if st.Status != "unavailable" || st.Error == "" {
					t.Errorf("%s: %+v, want unavailable with a reason", name, st)
				}
			}
			slices.Sort(named)
			if !slices.Equal(named, tt.want) {
				t.Errorf("providers named %v, want %v", named, tt.want)
			}
		})
	}
}

// TestMisconfiguredAndRetired: an unusable descriptor is named, never left
// out; only a retirement takes a provider out of the answer, keeping or
// deleting its rows as it says; configured again, it is back.
func TestMisconfiguredAndRetired(t *testing.T) {
	log := newTestLog(t)
	cli := etcd.Client(t)
	ctx := context.Background()
	put := func(key, value string) {
		t.Helper()
		if _, err := cli.Put(ctx, key, value); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Delete(context.Background(), key) })
	}
	del := func(key string) {
		t.Helper()
		if _, err := cli.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	}

	blue := &survey{name: uniqueName("blue-"), addr: freeAddr(t), db: pgtest.NewDatabase(t)}
	blue.start(t, log)
	id := post(t, blue.url(), "retire", "iOS")
	broken, tokenless := uniqueName("broken-"), uniqueName("tf-")
	put(discovery.ProviderKey(broken), `{"url":`)
	put(discovery.ProviderKey(tokenless), `{"url":"https://api.typeform.com/forms/abc123","dialect":"typeform"}`)
	agg := startAggregator(t, log)
	wait.For(t, "the misconfigured providers reported", func() bool {
		got, _ := agg.query(t, "timeout", "300ms")
		st := got.Sync.Providers
		return !got.Sync.Complete && st[blue.name].Status == "ok" &&
			st[broken].Status == "misconfigured" && st[broken].Error != "" &&
			st[tokenless].Status == "misconfigured" && st[tokenless].Error != ""
	})

	// Deleting a key is not retiring: the provider is unavailable.
	del(discovery.ProviderKey(broken))
	wait.For(t, "the deleted provider unavailable", func() bool {
		got, _ := agg.query(t, "timeout", "300ms")
		return got.Sync.Providers[broken].Status == "unavailable"
	})
	put(discovery.RetiredKey(broken), discovery.RetireKeep)
	put(discovery.RetiredKey(tokenless), discovery.RetireKeep)
	wait.For(t, "retired providers out of the answer", func() bool {
		got, _ := agg.query(t, "timeout", "300ms")
		_, b := got.Sync.Providers[broken]
		_, tf := got.Sync.Providers[tokenless]
		return got.Sync.Complete && !b && !tf
	})

	// Retiring with delete removes the rows, even while still registered.
	if got, _ := agg.query(t, "survey", "retire"); !hasRow(got, blue.name, id) {
		t.Fatalf("blue's response missing before retirement: %+v", got)
	}
	put(discovery.RetiredKey(blue.name), discovery.RetireDelete)
	wait.For(t, "blue retired and its rows deleted", func() bool {
		got, _ := agg.query(t, "survey", "retire")
		_, named := got.Sync.Providers[blue.name]
		return got.Sync.Complete && !named && len(got.Data) == 0
	})

	// The retirement survives a restart of the aggregator.
	agg.stop()
	again := launchAggregator(t, log, map[string]string{"XII_POSTGRES_URL": agg.db})
	wait.For(t, "the restarted replica ready", func() bool { return again.status("/readyz") == 200 })
	if got, _ := again.query(t, "survey", "retire"); !got.Sync.Complete || len(got.Sync.Providers) != 0 || len(got.Data) != 0 {
		t.Fatalf("after a restart: %+v, want the retired providers still out", got)
	}

	// With the retired key gone, the registered provider is covered again
	// and synced from the start.
	del(discovery.RetiredKey(blue.name))
	wait.For(t, "blue back with its rows", func() bool {
		got, _ := again.query(t, "survey", "retire")
		return got.Sync.Complete && hasRow(got, blue.name, id)
	})
}
