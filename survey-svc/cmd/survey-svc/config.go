package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"xii/libs/discovery"
	"xii/libs/envflag"
	"xii/libs/httpserver"
	"xii/observability"
	"xii/survey-svc/survey"
)

// defaultListenAddr is where the service listens unless told otherwise;
// the healthcheck subcommand probes it too.
const defaultListenAddr = ":1101"

// config is survey-svc's whole configuration: flags with XII_* environment
// defaults (flag -postgres-url reads XII_POSTGRES_URL).
type config struct {
	Name            string
	ListenAddr      string
	AdvertiseURL    string
	PostgresURL     string
	EtcdEndpoints   []string
	EtcdAuth        discovery.Auth
	ExportToken     string
	MaxBodyBytes    int64
	RegisterTTL     time.Duration
	ShutdownTimeout time.Duration
	MaxConns        int
	MaxInFlight     int
	PprofAddr       string
	RateLimit       httpserver.RateLimit
	LogLevel        slog.Level
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func parseConfig(args []string, lookup func(string) (string, bool), stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("survey-svc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "blue", "instance name; also its provider name in etcd")
	listen := fs.String("listen-addr", defaultListenAddr, "HTTP listen address")
	advertise := fs.String("advertise-url", "", "URL other services reach this instance at (default http://127.0.0.1:<listen port>)")
	pg := fs.String("postgres-url", "", "PostgreSQL URL; the database is created if missing (default postgres://postgres@127.0.0.1:5432/xii_survey_<name>?sslmode=disable)")
	etcd := fs.String("etcd-endpoints", "127.0.0.1:2379", "comma-separated etcd endpoints; empty disables registration")
	etcdAuth := discovery.AuthFlags(fs)
	token := fs.String("export-token", "", "bearer token the export API requires; empty: none")
	maxBody := fs.Int64("max-body-bytes", survey.DefaultMaxBodyBytes, "largest accepted request body, in bytes")
	rateLimit := fs.Float64("rate-limit", 0, "Submissions per second one client (IP address) may make on average; past it 429 (0: no limit)")
	rateBurst := fs.Int("rate-burst", 20, "Submissions one client may make at once, within the rate limit")
	ttl := fs.Duration("register-ttl", 10*time.Second, "etcd lease TTL of the registration")
	common, err := envflag.ParseService(fs, args, lookup)
	if err != nil {
		return config{}, err
	}

	c := config{
		Name:            *name,
		ListenAddr:      *listen,
		AdvertiseURL:    *advertise,
		PostgresURL:     *pg,
		ExportToken:     *token,
		MaxBodyBytes:    *maxBody,
		RegisterTTL:     *ttl,
		ShutdownTimeout: common.ShutdownTimeout, MaxConns: common.MaxConns,
		MaxInFlight: common.MaxInFlight, PprofAddr: common.PprofAddr,
		RateLimit: httpserver.RateLimit{PerSecond: *rateLimit, Burst: *rateBurst},
	}
	c.EtcdEndpoints = envflag.List(*etcd)
	if c.EtcdAuth, err = etcdAuth(); err != nil {
		return config{}, err
	}
	if c.LogLevel, err = observability.ParseLevel(common.LogLevel); err != nil {
		return config{}, fmt.Errorf("log-level: %w", err)
	}
	return c, c.fill()
}

// fill derives the defaults that depend on other settings and validates.
func (c *config) fill() error {
	if err := c.RateLimit.Validate(); err != nil {
		return err
	}
	if !namePattern.MatchString(c.Name) {
		return errors.New("name: must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
	}
	port, err := envflag.ListenPort(c.ListenAddr)
	if err != nil {
		return err
	}
	if c.AdvertiseURL == "" {
		c.AdvertiseURL = "http://127.0.0.1:" + port
	}
	if u, err := url.Parse(c.AdvertiseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("advertise-url: must be an absolute http(s) URL, got %q", c.AdvertiseURL)
	}
	if c.PostgresURL == "" {
		c.PostgresURL = "postgres://postgres@127.0.0.1:5432/xii_survey_" + strings.ReplaceAll(c.Name, "-", "_") + "?sslmode=disable"
	}
	if u, err := url.Parse(c.PostgresURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("postgres-url: must be a postgres:// URL")
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 16<<20 {
		return fmt.Errorf("max-body-bytes: must be between 1024 and %d", 16<<20)
	}
	if c.RegisterTTL < 2*time.Second || c.RegisterTTL > 5*time.Minute {
		return errors.New("register-ttl: must be between 2s and 5m")
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > 10*time.Minute {
		return errors.New("shutdown-timeout: must be between 0 and 10m")
	}
	return nil
}

// LogValue masks secrets, so the config can be logged once at start-up.
func (c config) LogValue() slog.Value {
	token := ""
	if c.ExportToken != "" {
		token = "***"
	}
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("listen_addr", c.ListenAddr),
		slog.String("advertise_url", c.AdvertiseURL),
		slog.String("postgres_url", observability.RedactURL(c.PostgresURL)),
		slog.Any("etcd_endpoints", c.EtcdEndpoints),
		slog.String("export_token", token),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Duration("register_ttl", c.RegisterTTL),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int("max_conns", c.MaxConns),
		slog.Int("max_in_flight", c.MaxInFlight),
		slog.String("pprof_addr", c.PprofAddr),
		slog.Any("etcd_auth", c.EtcdAuth),
		slog.Float64("rate_limit", c.RateLimit.PerSecond),
		slog.Int("rate_burst", c.RateLimit.Burst),
		slog.String("log_level", c.LogLevel.String()),
	)
}
