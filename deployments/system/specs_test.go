package system

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestSurveySpec(t *testing.T) {
	var log bytes.Buffer
	s := &System{cfg: Config{
		Bin: "/b", Ports: Ports{Blue: 1201, Red: 1202, Etcd: 2479},
		DatabaseURL: func(name string) string { return "postgres://h/" + name },
		Env:         map[string][]string{"green": {"XII_X=1"}},
		Log:         &log,
	}}
	g := s.SurveySpec("green", "127.0.0.1:1203", "http://127.0.0.1:1204", "postgres://h/green")
	for _, want := range []string{"XII_NAME=green", "XII_LISTEN_ADDR=127.0.0.1:1203", "XII_ADVERTISE_URL=http://127.0.0.1:1204",
		"XII_POSTGRES_URL=postgres://h/green", "XII_ETCD_ENDPOINTS=http://127.0.0.1:2479", "OTEL_TRACES_EXPORTER=none", "XII_X=1"} {
		if !slices.Contains(g.Env, want) {
			t.Errorf("green's env %q lacks %s", g.Env, want)
		}
	}
	if g.Name != "green" || g.Path != "/b/survey-svc" || g.ReadyURL != "http://127.0.0.1:1203/readyz" || g.Log != &log {
		t.Errorf("green: name %q, path %q, ready %q, log set %v", g.Name, g.Path, g.ReadyURL, g.Log == &log)
	}
	b := s.surveySpec("blue")
	if b.ReadyURL != s.URL("blue")+"/readyz" || !slices.Contains(b.Env, "XII_LISTEN_ADDR=127.0.0.1:1201") ||
		!slices.Contains(b.Env, "XII_POSTGRES_URL=postgres://h/blue") {
		t.Errorf("blue: ready %q, env %q", b.ReadyURL, b.Env)
	}
	if slices.ContainsFunc(b.Env, func(e string) bool { return strings.HasPrefix(e, "XII_ADVERTISE_URL=") }) {
		t.Errorf("blue advertises another address: %q", b.Env)
	}
}

func TestProcsEnv(t *testing.T) {
	unset := func(string) (string, bool) { return "", false }
	for _, c := range []struct {
		cpus int
		want string
	}{{1, "GOMAXPROCS=1"}, {2, "GOMAXPROCS=1"}, {3, "GOMAXPROCS=1"}, {8, "GOMAXPROCS=4"}} {
		if got := procsEnv(unset, c.cpus); len(got) != 1 || got[0] != c.want {
			t.Errorf("%d cpus: %q, want %s", c.cpus, got, c.want)
		}
	}
	set := func(k string) (string, bool) { return "3", k == "GOMAXPROCS" }
	if got := procsEnv(set, 8); len(got) != 0 {
		t.Errorf("GOMAXPROCS set: %q, want it inherited", got)
	}
	s := &System{cfg: Config{Env: map[string][]string{"blue": {"GOMAXPROCS=2"}}}}
	if env := s.SurveySpec("blue", "a", "", "u").Env; env[len(env)-1] != "GOMAXPROCS=2" {
		t.Errorf("blue's env %q does not end with its own GOMAXPROCS", env)
	}
}
