package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	lookup := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c config) bool {
			return c.ListenAddr == ":1110" && c.AdvertiseURL == "http://127.0.0.1:1110" && c.Coalesce &&
				strings.HasSuffix(c.ID, "-1110") && len(c.EtcdEndpoints) == 1
		}, ""},
		{"tokens", []string{"-provider-tokens=blue=http://blue:1101@abc, acme=https://api.typeform.com/forms/f@tfp_x=y@z"}, nil, func(c config) bool {
			return c.ProviderTokens["blue"].Token == "abc" && c.ProviderTokens["blue"].Bound.Host == "blue:1101" &&
				c.ProviderTokens["acme"].Token == "tfp_x=y@z" && c.ProviderTokens["acme"].Bound.Path == "/forms/f"
		}, ""},
		{"unbound token", []string{"-provider-tokens=blue=s3cret"}, nil, nil, "provider-tokens: blue: not <url>@<token>"},
		{"naive from env", nil, map[string]string{"XII_COALESCE": "false"}, func(c config) bool { return !c.Coalesce }, ""},
		{"bad token pair", []string{"-provider-tokens=blue"}, nil, nil, "provider-tokens: entry 1 is not provider=url@token"},
		{"duplicate token", []string{"-provider-tokens=a=http://a@1,a=http://a@2"}, nil, nil, "a given twice"},
		{"no etcd", []string{"-etcd-endpoints="}, nil, nil, "etcd-endpoints"},
		{"bad id", []string{"-id=a/b"}, nil, nil, "id:"},
		{"bad page bytes", []string{"-max-page-bytes=10"}, nil, nil, "max-page-bytes"},
		{"bad coalesce", nil, map[string]string{"XII_COALESCE": "maybe"}, nil, "XII_COALESCE"},
		{"read reserve", nil, map[string]string{"XII_READ_RESERVE": "120ms", "XII_MAX_IN_FLIGHT": "0"},
			func(c config) bool { return c.ReadReserve == 120*time.Millisecond && c.MaxInFlight == 0 }, ""},
		{"bad read reserve", []string{"-read-reserve=1ms"}, nil, nil, "read-reserve"},
		{"page cache off", nil, map[string]string{"XII_PAGE_CACHE_BYTES": "0"}, func(c config) bool { return c.PageCacheBytes == 0 }, ""},
		{"bad page cache", []string{"-page-cache-bytes=-1"}, nil, nil, "page-cache-bytes"},
		{"pprof on all interfaces", []string{"-pprof-addr=:6060"}, nil, nil, "pprof-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, lookup(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig() = %v, want error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "abc") {
					t.Fatalf("error leaks a token: %v", err)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("parseConfig() = %+v, %v", c, err)
			}
		})
	}
}

func TestConfigLogMasksTokens(t *testing.T) {
	c, err := parseConfig([]string{"-provider-tokens=blue=http://blue:1101@s3cret", "-postgres-url=postgres://u:pa55@db/x"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	if out := buf.String(); strings.Contains(out, "s3cret") || strings.Contains(out, "pa55") || !strings.Contains(out, "blue") {
		t.Fatalf("config log: %s", out)
	}
}
