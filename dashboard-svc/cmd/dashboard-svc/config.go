package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"xii/dashboard-svc/aggregator"
	"xii/dashboard-svc/dashboard"
	"xii/dashboard-svc/web"
	"xii/libs/deadline"
	"xii/libs/discovery"
	"xii/libs/envflag"
	"xii/libs/httpserver"
	"xii/observability"
)

// defaultListenAddr is where the service listens unless told otherwise;
// the healthcheck subcommand probes it too.
const defaultListenAddr = ":1100"

// minTokenLen is the shortest API token accepted: a token is a secret, not
// a password to remember.
const minTokenLen = 16

// config is dashboard-svc's whole configuration: flags with XII_*
// environment defaults (flag -api-token reads XII_API_TOKEN).
type config struct {
	ListenAddr      string
	EtcdEndpoints   []string
	EtcdAuth        discovery.Auth
	EtcdTimeout     time.Duration
	APIToken        string
	Deadlines       dashboard.Deadlines
	Attempts        int
	ShutdownTimeout time.Duration
	MaxConns        int
	MaxInFlight     int
	AnswerReserve   time.Duration
	PprofAddr       string
	InternalToken   string
	RateLimit       httpserver.RateLimit
	JaegerUIURL     string
	LogLevel        slog.Level
}

func parseConfig(args []string, lookup func(string) (string, bool), stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("dashboard-svc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen-addr", defaultListenAddr, "HTTP listen address")
	etcd := fs.String("etcd-endpoints", "127.0.0.1:2379", "comma-separated etcd endpoints, where aggregator replicas register")
	etcdAuth := discovery.AuthFlags(fs)
	etcdTimeout := fs.Duration("etcd-timeout", aggregator.DefaultEtcdTimeout, "bound on connecting to etcd and on each read of the replicas")
	token := fs.String("api-token", "", "bearer token the public API requires; empty: none (demo only)")
	def := fs.Duration("default-timeout", dashboard.DefaultTimeout, "request deadline when the caller asks for none")
	maxT := fs.Duration("max-timeout", dashboard.MaxTimeout, "longest deadline a caller may ask for (timeout parameter or Request-Timeout header)")
	internal := fs.String("internal-token", "", "bearer token sent to the aggregator, which requires it when set; empty: none (local runs only)")
	rateLimit := fs.Float64("rate-limit", 0, "Reads per second one client (IP address) may make on average; past it 429 (0: no limit)")
	rateBurst := fs.Int("rate-burst", 20, "Reads one client may make at once, within the rate limit")
	jaegerUI := fs.String("jaeger-ui-url", web.DefaultJaegerURL, "Jaeger UI base URL the web page links each refresh's trace to")
	reserve := fs.Duration("answer-reserve", deadline.DefaultReserve, "least time a call to the aggregator leaves of the request's deadline for the answer's way back; more when answers came back late lately")
	attempts := fs.Int("aggregator-attempts", aggregator.DefaultAttempts, "tries of one call over different aggregator replicas, within the deadline")
	common, err := envflag.ParseService(fs, args, lookup)
	if err != nil {
		return config{}, err
	}

	c := config{
		ListenAddr:      *listen,
		EtcdTimeout:     *etcdTimeout,
		APIToken:        *token,
		Deadlines:       dashboard.Deadlines{Default: *def, Max: *maxT},
		Attempts:        *attempts,
		ShutdownTimeout: common.ShutdownTimeout, MaxConns: common.MaxConns,
		MaxInFlight: common.MaxInFlight, PprofAddr: common.PprofAddr, AnswerReserve: *reserve,
		RateLimit:     httpserver.RateLimit{PerSecond: *rateLimit, Burst: *rateBurst},
		InternalToken: *internal,
		JaegerUIURL:   *jaegerUI,
	}
	c.EtcdEndpoints = envflag.List(*etcd)
	if c.EtcdAuth, err = etcdAuth(); err != nil {
		return config{}, err
	}
	if c.LogLevel, err = observability.ParseLevel(common.LogLevel); err != nil {
		return config{}, fmt.Errorf("log-level: %w", err)
	}
	return c, c.validate()
}

func (c config) validate() error {
	if _, err := envflag.ListenPort(c.ListenAddr); err != nil {
		return err
	}
	if err := c.RateLimit.Validate(); err != nil {
		return err
	}
	if len(c.EtcdEndpoints) == 0 {
		return errors.New("etcd-endpoints: required; the aggregator replicas are found there")
	}
	if c.EtcdTimeout < 100*time.Millisecond || c.EtcdTimeout > time.Minute {
		return errors.New("etcd-timeout: must be between 100ms and 1m")
	}
	if c.APIToken != "" {
		if len(c.APIToken) < minTokenLen || len(c.APIToken) > 4096 {
			return fmt.Errorf("api-token: must be %d to 4096 characters", minTokenLen)
		}
		if strings.IndexFunc(c.APIToken, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || r == ' ' }) >= 0 {
			return errors.New("api-token: must be printable ASCII without spaces")
		}
	}
	if err := web.ValidateJaegerURL(c.JaegerUIURL); err != nil {
		return fmt.Errorf("jaeger-ui-url: %w", err)
	}
	if err := c.Deadlines.Validate(); err != nil {
		return fmt.Errorf("default-timeout, max-timeout: %w", err)
	}
	if err := deadline.ValidateReserve(c.AnswerReserve); err != nil {
		return fmt.Errorf("answer-reserve: %w", err)
	}
	if c.Attempts < 1 || c.Attempts > 10 {
		return errors.New("aggregator-attempts: must be between 1 and 10")
	}
	if c.ShutdownTimeout < c.Deadlines.Max || c.ShutdownTimeout > 10*time.Minute {
		return fmt.Errorf("shutdown-timeout: must be between max-timeout (%s), so requests in flight can finish, and 10m", c.Deadlines.Max)
	}
	return nil
}

// LogValue masks the token, so the config can be logged once at start-up.
func (c config) LogValue() slog.Value {
	token := "none"
	if c.APIToken != "" {
		token = "***"
	}
	return slog.GroupValue(
		slog.String("listen_addr", c.ListenAddr),
		slog.Any("etcd_endpoints", c.EtcdEndpoints),
		slog.Duration("etcd_timeout", c.EtcdTimeout),
		slog.String("api_token", token),
		slog.Duration("default_timeout", c.Deadlines.Default),
		slog.Duration("max_timeout", c.Deadlines.Max),
		slog.Int("aggregator_attempts", c.Attempts),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int("max_conns", c.MaxConns),
		slog.Int("max_in_flight", c.MaxInFlight),
		slog.Duration("answer_reserve", c.AnswerReserve),
		slog.String("pprof_addr", c.PprofAddr),
		slog.Any("etcd_auth", c.EtcdAuth),
		slog.Bool("internal_token", c.InternalToken != ""),
		slog.Float64("rate_limit", c.RateLimit.PerSecond),
		slog.Int("rate_burst", c.RateLimit.Burst),
		slog.String("jaeger_ui_url", c.JaegerUIURL),
		slog.String("log_level", c.LogLevel.String()),
	)
}
