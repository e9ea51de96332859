package discovery_test

import (
	"strings"
	"testing"
	"time"

	"xii/libs/discovery"
)

func TestNewRegistrarRejects(t *testing.T) {
	cases := []struct {
		name    string
		change  func(*discovery.RegistrarConfig)
		wantErr string
	}{
		{"no endpoints", func(c *discovery.RegistrarConfig) { c.Endpoints = nil }, "endpoints"},
		{"empty endpoint", func(c *discovery.RegistrarConfig) { c.Endpoints = []string{""} }, "endpoints"},
		{"no prefix", func(c *discovery.RegistrarConfig) { c.Prefix = "" }, "prefix"},
		{"prefix without slash", func(c *discovery.RegistrarConfig) { c.Prefix = "/xii/providers" }, "prefix"},
		{"empty name", func(c *discovery.RegistrarConfig) { c.Name = "" }, "name"},
		{"name with slash", func(c *discovery.RegistrarConfig) { c.Name = "a/b" }, "name"},
		{"long name", func(c *discovery.RegistrarConfig) { c.Name = strings.Repeat("n", 65) }, "name"},
		{"empty value", func(c *discovery.RegistrarConfig) { c.Value = "" }, "value"},
		{"provider value not a descriptor", func(c *discovery.RegistrarConfig) { c.Value = "http://x" }, "value"},
		{"negative ttl", func(c *discovery.RegistrarConfig) { c.TTL = -time.Second }, "ttl"},
		{"sub-second ttl", func(c *discovery.RegistrarConfig) { c.TTL = 500 * time.Millisecond }, "ttl"},
		{"negative retry", func(c *discovery.RegistrarConfig) { c.RetryMax = -1 }, "retry max"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, []string{"http://127.0.0.1:2379"}, "valid")
			tc.change(&cfg)
			_, err := discovery.NewRegistrar(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewRegistrar() = %v, want an error about %s", err, tc.wantErr)
			}
		})
	}

	t.Run("service value is free-form", func(t *testing.T) {
		cfg := testConfig(t, []string{"http://127.0.0.1:2379"}, "aggregator")
		cfg.Prefix, cfg.Value = discovery.ServicesPrefix, "http://127.0.0.1:1110"
		r, err := discovery.NewRegistrar(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Key() != "/xii/services/aggregator" {
			t.Errorf("key %q", r.Key())
		}
	})
}
