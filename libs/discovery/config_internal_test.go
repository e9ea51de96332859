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

func TestRetryDelay(t *testing.T) {
	limit := 5 * time.Second
	cases := []struct {
		failures int
		lo, hi   time.Duration
	}{
		{0, 0, 0},
		{1, retryMin / 2, retryMin},
		{3, retryMin * 2, retryMin * 4},
		{7, limit / 2, limit},
		{1000, limit / 2, limit},
	}
	for _, tc := range cases {
		for range 50 {
			if d := retryDelay(tc.failures, limit); d < tc.lo || d > tc.hi {
				t.Fatalf("retryDelay(%d) = %s, want within [%s, %s]", tc.failures, d, tc.lo, tc.hi)
			}
		}
	}
}
