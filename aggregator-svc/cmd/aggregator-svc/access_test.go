package main

import (
	"slices"
	"strings"
	"testing"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
	"xii/testkit/pgtest"
	"xii/testkit/wait"
)

// TestSystemWithEtcdAccess: etcd-access sets up an etcd of its own; then a
// survey instance registers with its own user and the aggregator, with
// its, finds it and answers completely; a second run, as root on the
// authenticated etcd, succeeds too.
func TestSystemWithEtcdAccess(t *testing.T) {
	log := newTestLog(t)
	own := etcdtest.Start(t)
	blue := uniqueName("blue-")
	env := map[string]string{
		"XII_ETCD_ENDPOINTS":           strings.Join(own.Endpoints(), ","),
		"XII_ETCD_ROOT_PASSWORD":       "root-pw",
		"XII_ETCD_AGGREGATOR_PASSWORD": "agg-pw",
		"XII_ETCD_DASHBOARD_PASSWORD":  "dash-pw",
		"XII_ETCD_OPERATOR_PASSWORD":   "op-pw",
		"XII_ETCD_HEALTH_PASSWORD":     "health",
		"XII_ETCD_SURVEY_PASSWORDS":    blue + "=blue-pw, red=red-pw",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for range 2 {
		if err := accessCommand(t.Context(), nil, lookup, log); err != nil {
			t.Fatalf("etcd-access: %v", err)
		}
	}

	s := survey{name: blue, addr: freeAddr(t), db: pgtest.NewDatabase(t), env: []string{
		"XII_ETCD_ENDPOINTS=" + env["XII_ETCD_ENDPOINTS"],
		"XII_ETCD_USERNAME=" + discovery.SurveyUser(blue),
		"XII_ETCD_PASSWORD=blue-pw",
	}}
	s.start(t, log)
	id := post(t, s.url(), "access", "iOS")
	agg := launchAggregator(t, log, map[string]string{
		"XII_ETCD_ENDPOINTS": env["XII_ETCD_ENDPOINTS"],
		"XII_ETCD_USERNAME":  discovery.UserAggregator,
		"XII_ETCD_PASSWORD":  "agg-pw",
	})
	wait.For(t, "aggregator readiness", func() bool { return agg.status("/readyz") == 200 })
	waitForProviders(t, agg, blue)
	got, _ := agg.query(t, "survey", "access")
	if !got.Sync.Complete || !slices.ContainsFunc(got.Data, func(r response) bool { return r.ProviderID == id }) {
		t.Errorf("answer %+v, want complete with %s's response %s", got, blue, id)
	}
}

func TestAccessCommandRejects(t *testing.T) {
	full := map[string]string{
		"XII_ETCD_ROOT_PASSWORD": "r", "XII_ETCD_AGGREGATOR_PASSWORD": "a", "XII_ETCD_DASHBOARD_PASSWORD": "d",
		"XII_ETCD_OPERATOR_PASSWORD": "o", "XII_ETCD_SURVEY_PASSWORDS": "blue=b",
	}
	for name, change := range map[string]map[string]string{
		"no root password":        {"XII_ETCD_ROOT_PASSWORD": ""},
		"survey without password": {"XII_ETCD_SURVEY_PASSWORDS": "blue"},
		"survey twice":            {"XII_ETCD_SURVEY_PASSWORDS": "blue=b,blue=c"},
		"a user besides root":     {"XII_ETCD_USERNAME": "aggregator", "XII_ETCD_PASSWORD": "a"},
	} {
		env := map[string]string{}
		for k, v := range full {
			env[k] = v
		}
		for k, v := range change {
			env[k] = v
		}
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		err := accessCommand(t.Context(), nil, lookup, &strings.Builder{})
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "blue=b") || strings.Contains(err.Error(), "=c") {
			t.Errorf("%s: the error shows a password: %v", name, err)
		}
	}
}
