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
