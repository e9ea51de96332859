package docker

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// checkEnvironment checks each xii service's variables against its
// binary's flags, and that the addresses in them fit together: advertised
// URLs are the service's own name and port, each service has a database of
// its own, each survey instance a provider name of its own.
func checkEnvironment(t *testing.T, p *types.Project) {
	databases := map[string]string{}
	names := map[string]string{}
	for _, s := range xiiServices(p) {
		flags := flagsOf(t, s.binary)
		env := func(k string) string {
			if v := s.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		for k, v := range s.Environment {
			if v == nil {
				t.Errorf("%s: %s has no value", s.Name, k)
			}
			if _, ok := flags[k]; !ok && !slices.Contains(otelEnv, k) {
				t.Errorf("%s: %s is neither a flag of %s nor a known OTEL_* variable", s.Name, k, s.binary)
			}
		}
		port := listenPort(t, s)
		if !slices.ContainsFunc(s.Ports, func(pc types.ServicePortConfig) bool { return strconv.Itoa(int(pc.Target)) == port }) {
			t.Errorf("%s listens on %s but does not publish it", s.Name, port)
		}
		if u := env("XII_ADVERTISE_URL"); u != "" {
			if pu, err := url.Parse(u); err != nil || pu.Hostname() != s.Name || pu.Port() != port {
				t.Errorf("%s: XII_ADVERTISE_URL %q, want http://%s:%s", s.Name, u, s.Name, port)
			}
		} else if s.binary != "dashboard-svc" {
			t.Errorf("%s: no XII_ADVERTISE_URL; the default (127.0.0.1) is unreachable from other containers", s.Name)
		}
		if e := env("XII_ETCD_ENDPOINTS"); e != "etcd:2379" {
			t.Errorf("%s: XII_ETCD_ENDPOINTS %q, want etcd:2379", s.Name, e)
		}
		if e := env("OTEL_EXPORTER_OTLP_ENDPOINT"); e != "http://jaeger:4317" {
			t.Errorf("%s: OTEL_EXPORTER_OTLP_ENDPOINT %q, want http://jaeger:4317", s.Name, e)
		}
		if e := env("OTEL_SERVICE_NAME"); e != s.binary {
			t.Errorf("%s: OTEL_SERVICE_NAME %q, want %s", s.Name, e, s.binary)
		}
		if s.binary == "dashboard-svc" {
			continue
		}
		pg, err := url.Parse(env("XII_POSTGRES_URL"))
		if err != nil || pg.Hostname() != "postgres" || pg.Path == "" {
			t.Errorf("%s: XII_POSTGRES_URL %q, want a database on the postgres service", s.Name, env("XII_POSTGRES_URL"))
		} else if other, dup := databases[pg.Path]; dup {
			t.Errorf("%s and %s share database %s; every service owns its own", other, s.Name, pg.Path)
		} else {
			databases[pg.Path] = s.Name
		}
		if s.binary == "survey-svc" {
			name := env("XII_NAME")
			if name == "" || !strings.HasSuffix(s.Name, "-"+name) {
				t.Errorf("%s: XII_NAME %q, want the service name's suffix", s.Name, name)
			}
			if other, dup := names[name]; dup {
				t.Errorf("%s and %s are both provider %q", other, s.Name, name)
			}
			names[name] = s.Name
		}
	}
}

// checkEtcdAccess checks the etcd-access job against its subcommand's
// flags, and that every service logs in to etcd as the user the job makes
// for it, with the password the job sets.
func checkEtcdAccess(t *testing.T, p *types.Project) {
	job, ok := p.Services["etcd-access"]
	if !ok {
		t.Fatal("no etcd-access job")
	}
	env := func(s types.ServiceConfig, k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	if got := []string(job.Command); !slices.Equal(got, []string{"etcd-access"}) {
		t.Errorf("etcd-access command %q, want [etcd-access]", got)
	}
	flags := flagsOf(t, "aggregator-svc", "etcd-access")
	for k := range job.Environment {
		if _, ok := flags[k]; !ok {
			t.Errorf("etcd-access: %s is no flag of aggregator-svc etcd-access", k)
		}
	}
	if e := env(job, "XII_ETCD_ENDPOINTS"); e != "etcd:2379" {
		t.Errorf("etcd-access: XII_ETCD_ENDPOINTS %q, want etcd:2379", e)
	}
	surveys := map[string]string{}
	for _, item := range strings.Split(env(job, "XII_ETCD_SURVEY_PASSWORDS"), ",") {
		name, pw, _ := strings.Cut(item, "=")
		surveys["survey-"+name] = pw
	}
	for _, s := range xiiServices(p) {
		var user, pw string
		switch s.binary {
		case "survey-svc":
			user = "survey-" + env(s.ServiceConfig, "XII_NAME")
			pw = surveys[user]
		case "aggregator-svc":
			user, pw = "aggregator", env(job, "XII_ETCD_AGGREGATOR_PASSWORD")
		case "dashboard-svc":
			user, pw = "dashboard", env(job, "XII_ETCD_DASHBOARD_PASSWORD")
		}
		if got := env(s.ServiceConfig, "XII_ETCD_USERNAME"); got != user {
			t.Errorf("%s: XII_ETCD_USERNAME %q, want %q", s.Name, got, user)
		}
		if got := env(s.ServiceConfig, "XII_ETCD_PASSWORD"); pw == "" || got != pw {
			t.Errorf("%s: XII_ETCD_PASSWORD is not the password etcd-access gives %s", s.Name, user)
		}
	}
	want := "--user=health:" + env(job, "XII_ETCD_HEALTH_PASSWORD")
	if hc := p.Services["etcd"].HealthCheck; hc == nil || !slices.Contains(hc.Test, want) {
		t.Errorf("etcd healthcheck does not log in as the health user etcd-access makes (%s)", want)
	}
}
