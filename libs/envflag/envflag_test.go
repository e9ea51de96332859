package envflag

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantTTL  time.Duration
		wantErr  string
	}{
		{"defaults", nil, nil, ":1101", time.Second, ""},
		{"env", nil, map[string]string{"XII_LISTEN_ADDR": ":9", "XII_TTL": "3s"}, ":9", 3 * time.Second, ""},
		{"flag beats env", []string{"-listen-addr=:7"}, map[string]string{"XII_LISTEN_ADDR": ":9"}, ":7", time.Second, ""},
		{"bad env", nil, map[string]string{"XII_TTL": "soon"}, "", 0, `XII_TTL: invalid value "soon"`},
		{"bad flag", []string{"-ttl=soon"}, nil, "", 0, `invalid value "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("svc", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			addr := fs.String("listen-addr", ":1101", "listen address")
			ttl := fs.Duration("ttl", time.Second, "lease TTL")
			err := Parse(fs, "XII", tt.args, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || *addr != tt.wantAddr || *ttl != tt.wantTTL {
				t.Fatalf("Parse() = %v; addr %q ttl %v, want %q %v", err, *addr, *ttl, tt.wantAddr, tt.wantTTL)
			}
			if u := fs.Lookup("ttl").Usage; !strings.Contains(u, "env XII_TTL") {
				t.Errorf("usage %q does not name the variable", u)
			}
		})
	}
}

func TestParseServiceOverloadSettings(t *testing.T) {
	parse := func(env map[string]string) (Common, error) {
		fs := flag.NewFlagSet("svc", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		return ParseService(fs, nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}
	c, err := parse(nil)
	if err != nil || c.MaxInFlight != DefaultMaxInFlight || c.PprofAddr != "" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = parse(map[string]string{"XII_MAX_IN_FLIGHT": "0", "XII_PPROF_ADDR": "127.0.0.1:6060"})
	if err != nil || c.MaxInFlight != 0 || c.PprofAddr != "127.0.0.1:6060" {
		t.Fatalf("set: %+v, %v", c, err)
	}
	for _, env := range []map[string]string{
		{"XII_MAX_IN_FLIGHT": "-1"},
		{"XII_PPROF_ADDR": ":6060"},
		{"XII_PPROF_ADDR": "0.0.0.0:6060"},
		{"XII_PPROF_ADDR": "10.1.2.3:6060"},
		{"XII_PPROF_ADDR": "127.0.0.1:99999"},
	} {
		if _, err := parse(env); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}
