package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/provider"
	"xii/libs/deadline"
	"xii/libs/discovery"
	"xii/libs/envflag"
	"xii/observability"
)

// defaultListenAddr is where the service listens unless told otherwise;
// the healthcheck subcommand probes it too.
const defaultListenAddr = ":1110"

// config is aggregator-svc's configuration: flags with XII_* environment
// defaults. The live tuning (fetch_timeout, ...) is not here: it is read
// from etcd under /xii/config/aggregator/.
type config struct {
	ID              string
	ListenAddr      string
	AdvertiseURL    string
	PostgresURL     string
	EtcdEndpoints   []string
	EtcdAuth        discovery.Auth
	ProviderTokens  map[string]provider.Credential
	Coalesce        bool
	MaxPageBytes    int64
	RegisterTTL     time.Duration
	ShutdownTimeout time.Duration
	MaxConns        int
	MaxInFlight     int
	PprofAddr       string
	ReadReserve     time.Duration
	PageCacheBytes  int
	InternalToken   string
	LogLevel        slog.Level
}

func parseConfig(args []string, lookup func(string) (string, bool), stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("aggregator-svc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "replica id, registered at /xii/services/aggregator/<id> (default <hostname>-<port>)")
	listen := fs.String("listen-addr", defaultListenAddr, "HTTP listen address")
	advertise := fs.String("advertise-url", "", "URL the dashboard reaches this replica at (default http://127.0.0.1:<listen port>)")
	pg := fs.String("postgres-url", "postgres://postgres@127.0.0.1:5432/xii_aggregate?sslmode=disable", "PostgreSQL URL of the aggregate; the database is created if missing")
	etcd := fs.String("etcd-endpoints", "127.0.0.1:2379", "comma-separated etcd endpoints")
	etcdAuth := discovery.AuthFlags(fs)
	tokens := fs.String("provider-tokens", "", "comma-separated provider=url@token entries: credentials for providers' export APIs, each sent only to its URL (scheme, host, port and path prefix); a bearer token, or for alchemer token:secret (api_token and api_token_secret)")
	coalesce := fs.Bool("coalesce", true, "share sync rounds between concurrent requests; false is for benchmarks only")
	maxPage := fs.Int64("max-page-bytes", 32<<20, "largest provider page accepted, in bytes")
	ttl := fs.Duration("register-ttl", 10*time.Second, "etcd lease TTL of the registration")
	reserve := fs.Duration("read-reserve", deadline.DefaultReserve, "least time a request's sync leaves for the read after it; more when reads took longer lately")
	pageCache := fs.Int("page-cache-bytes", aggregate.DefaultPageCacheBytes, "most bytes of pages kept to answer again while no response changed; 0: keep none")
	internal := fs.String("internal-token", "", "bearer token the API requires of its caller, the dashboard; empty: none (local runs only)")
	common, err := envflag.ParseService(fs, args, lookup)
	if err != nil {
		return config{}, err
	}
	c := config{
		ID: *id, ListenAddr: *listen, AdvertiseURL: *advertise, PostgresURL: *pg,
		Coalesce: *coalesce, MaxPageBytes: *maxPage, RegisterTTL: *ttl, ShutdownTimeout: common.ShutdownTimeout, MaxConns: common.MaxConns,
		MaxInFlight: common.MaxInFlight, PprofAddr: common.PprofAddr, ReadReserve: *reserve, PageCacheBytes: *pageCache, InternalToken: *internal,
	}
	c.EtcdEndpoints = envflag.List(*etcd)
	if c.EtcdAuth, err = etcdAuth(); err != nil {
		return config{}, err
	}
	if c.ProviderTokens, err = parseTokens(*tokens); err != nil {
		return config{}, err
	}
	if c.LogLevel, err = observability.ParseLevel(common.LogLevel); err != nil {
		return config{}, fmt.Errorf("log-level: %w", err)
	}
	return c, c.fill()
}

// parseTokens reads "name=url@token,name=url@token": each token is bound
// to the URL it may be sent to. Error messages never include a token.
func parseTokens(s string) (map[string]provider.Credential, error) {
	tokens := map[string]provider.Credential{}
	for i, entry := range strings.Split(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		name, value, ok := strings.Cut(entry, "=")
		if !ok || discovery.ValidateName(name) != nil {
			return nil, fmt.Errorf("provider-tokens: entry %d is not provider=url@token", i+1)
		}
		cred, err := provider.ParseCredential(value)
		if err != nil {
			return nil, fmt.Errorf("provider-tokens: %s: %w", name, err)
		}
		if _, dup := tokens[name]; dup {
			return nil, fmt.Errorf("provider-tokens: %s given twice", name)
		}
		tokens[name] = cred
	}
	return tokens, nil
}

func (c *config) fill() error {
	port, err := envflag.ListenPort(c.ListenAddr)
	if err != nil {
		return err
	}
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = sanitizeID(host) + "-" + port
	}
	if err := discovery.ValidateName(c.ID); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if c.AdvertiseURL == "" {
		c.AdvertiseURL = "http://127.0.0.1:" + port
	}
	if u, err := url.Parse(c.AdvertiseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("advertise-url: must be an absolute http(s) URL, got %q", c.AdvertiseURL)
	}
	if u, err := url.Parse(c.PostgresURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("postgres-url: must be a postgres:// URL")
	}
	if len(c.EtcdEndpoints) == 0 {
		return errors.New("etcd-endpoints: the aggregator finds its providers in etcd; give at least one")
	}
	if c.MaxPageBytes < 64<<10 || c.MaxPageBytes > 1<<30 {
		return errors.New("max-page-bytes: must be between 64KiB and 1GiB")
	}
	if c.RegisterTTL < 2*time.Second || c.RegisterTTL > 5*time.Minute {
		return errors.New("register-ttl: must be between 2s and 5m")
	}
	if err := deadline.ValidateReserve(c.ReadReserve); err != nil {
		return fmt.Errorf("read-reserve: %w", err)
	}
	if c.PageCacheBytes < 0 || c.PageCacheBytes > 1<<30 {
		return errors.New("page-cache-bytes: must be between 0 and 1GiB")
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > 10*time.Minute {
		return errors.New("shutdown-timeout: must be between 0 and 10m")
	}
	return nil
}

func sanitizeID(s string) string {
	s = strings.ToLower(s)
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "aggregator"
	}
	return strings.Trim(string(b[:min(len(b), 40)]), "-")
}

// LogValue masks secrets, so the config can be logged once at start-up.
func (c config) LogValue() slog.Value {
	names := make([]string, 0, len(c.ProviderTokens))
	for name, cred := range c.ProviderTokens {
		names = append(names, name+"="+cred.String())
	}
	return slog.GroupValue(
		slog.String("id", c.ID),
		slog.String("listen_addr", c.ListenAddr),
		slog.String("advertise_url", c.AdvertiseURL),
		slog.String("postgres_url", observability.RedactURL(c.PostgresURL)),
		slog.Any("etcd_endpoints", c.EtcdEndpoints),
		slog.Any("provider_tokens_for", names),
		slog.Bool("coalesce", c.Coalesce),
		slog.Int64("max_page_bytes", c.MaxPageBytes),
		slog.Duration("register_ttl", c.RegisterTTL),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int("max_conns", c.MaxConns),
		slog.Int("max_in_flight", c.MaxInFlight),
		slog.String("pprof_addr", c.PprofAddr),
		slog.Duration("read_reserve", c.ReadReserve),
		slog.Int("page_cache_bytes", c.PageCacheBytes),
		slog.Any("etcd_auth", c.EtcdAuth),
		slog.Bool("internal_token", c.InternalToken != ""),
		slog.String("log_level", c.LogLevel.String()),
	)
}
