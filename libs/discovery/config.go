package discovery

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for a RegistrarConfig's zero fields.
const (
	DefaultTTL               = 10 * time.Second
	DefaultDialTimeout       = 3 * time.Second
	DefaultRetryMax          = 5 * time.Second
	DefaultDeregisterTimeout = 3 * time.Second
)

// retryMin is the first retry delay; later ones double up to RetryMax.
const retryMin = 100 * time.Millisecond

// RegistrarConfig configures a Registrar. Zero durations take the defaults.
type RegistrarConfig struct {
	// Endpoints are the etcd client URLs.
	Endpoints []string
	// Auth is how the registrar proves itself to etcd; zero for none.
	Auth Auth
	// Prefix is the key prefix, ProvidersPrefix or ServicesPrefix; the key
	// is Prefix+Name.
	Prefix string
	// Name is the registered name; see ValidateName.
	Name string
	// Value is what the key holds. Under ProvidersPrefix it must be an
	// encoded Descriptor.
	Value string
	// TTL is the lease TTL: how long the key outlives its process. etcd
	// counts in whole seconds, so it is rounded up; at least one second.
	TTL time.Duration
	// DialTimeout bounds one connection attempt to etcd.
	DialTimeout time.Duration
	// RetryMax caps the delay between registration attempts and between
	// reconnects to etcd.
	RetryMax time.Duration
	// DeregisterTimeout bounds deregistration when Run's context ends.
	DeregisterTimeout time.Duration
	// Logger receives the registrar's logs; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns cfg with zero fields filled and checks the result.
func (cfg RegistrarConfig) withDefaults() (RegistrarConfig, error) {
	if len(cfg.Endpoints) == 0 {
		return cfg, errors.New("registrar endpoints: none")
	}
	for _, ep := range cfg.Endpoints {
		if ep == "" {
			return cfg, errors.New("registrar endpoints: empty endpoint")
		}
	}
	if len(cfg.Prefix) < 2 || !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") {
		return cfg, fmt.Errorf("registrar prefix: %q must start and end with '/'", cfg.Prefix)
	}
	if err := ValidateName(cfg.Name); err != nil {
		return cfg, fmt.Errorf("registrar name: %w", err)
	}
	if cfg.Value == "" {
		return cfg, errors.New("registrar value: empty")
	}
	if cfg.Prefix == ProvidersPrefix {
		if _, err := ParseDescriptor([]byte(cfg.Value)); err != nil {
			return cfg, fmt.Errorf("registrar value: %w", err)
		}
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"ttl", &cfg.TTL, DefaultTTL},
		{"dial timeout", &cfg.DialTimeout, DefaultDialTimeout},
		{"retry max", &cfg.RetryMax, DefaultRetryMax},
		{"deregister timeout", &cfg.DeregisterTimeout, DefaultDeregisterTimeout},
	}
	for _, d := range durations {
		if *d.d < 0 {
			return cfg, fmt.Errorf("registrar %s: %s is negative", d.name, *d.d)
		}
		if *d.d == 0 {
			*d.d = d.def
		}
	}
	if cfg.TTL < time.Second {
		return cfg, fmt.Errorf("registrar ttl: %s is shorter than a second", cfg.TTL)
	}
	if rem := cfg.TTL % time.Second; rem != 0 {
		cfg.TTL += time.Second - rem
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// key returns the registered key.
func (cfg RegistrarConfig) key() string { return cfg.Prefix + cfg.Name }
