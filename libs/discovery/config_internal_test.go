package discovery

import (
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	base := RegistrarConfig{
		Endpoints: []string{"http://127.0.0.1:2379"},
		Prefix:    ServicesPrefix,
		Name:      "aggregator",
		Value:     "x",
	}
	cfg, err := base.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TTL != DefaultTTL || cfg.DialTimeout != DefaultDialTimeout ||
		cfg.RetryMax != DefaultRetryMax || cfg.DeregisterTimeout != DefaultDeregisterTimeout || cfg.Logger == nil {
		t.Errorf("defaults not applied: %+v", cfg)
	}

	for in, want := range map[time.Duration]time.Duration{
		time.Second:             time.Second,
		1500 * time.Millisecond: 2 * time.Second,
		2*time.Second + 1:       3 * time.Second,
	} {
		base.TTL = in
		cfg, err := base.withDefaults()
		if err != nil || cfg.TTL != want {
			t.Errorf("TTL %s became %s, %v; want %s", in, cfg.TTL, err, want)
		}
	}
}
