// Package system builds and starts xii: the service binaries, as `make
// build` does (BuildServices, MakeBuildCommand), what their command lines
// accept (Flags), and the whole system on one machine as local processes
// (Start): an embedded etcd, Jaeger, survey-svc blue and red, the
// aggregator and the dashboard, against an existing PostgreSQL. `make run`,
// the end-to-end and fault-injection tests and the deployment checks all
// build and start the system through it; processes are run by libs/launch.
package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"xii/libs/launch"
)

// Ports are where the system listens, all on 127.0.0.1.
type Ports struct {
	Dashboard, Blue, Red, Aggregator int
	Etcd, EtcdPeer                   int
	JaegerOTLPGRPC, JaegerOTLPHTTP   int
	JaegerQuery, JaegerQueryGRPC     int
	JaegerHealth                     int
}

// DefaultPorts are the ports SPEC.md gives.
func DefaultPorts() Ports {
	return Ports{
		Dashboard: 1100, Blue: 1101, Red: 1102, Aggregator: 1110,
		Etcd: 2379, EtcdPeer: 2380,
		JaegerOTLPGRPC: 4317, JaegerOTLPHTTP: 4318, JaegerQuery: 16686, JaegerQueryGRPC: 16685, JaegerHealth: 13133,
	}
}

func (p Ports) list(withJaeger bool) []struct {
	name string
	port int
} {
	l := []struct {
		name string
		port int
	}{
		{"dashboard", p.Dashboard}, {"survey blue", p.Blue}, {"survey red", p.Red}, {"aggregator", p.Aggregator},
		{"etcd client", p.Etcd}, {"etcd peer", p.EtcdPeer},
	}
	if withJaeger {
		l = append(l, []struct {
			name string
			port int
		}{
			{"jaeger otlp grpc", p.JaegerOTLPGRPC}, {"jaeger otlp http", p.JaegerOTLPHTTP},
			{"jaeger query", p.JaegerQuery}, {"jaeger query grpc", p.JaegerQueryGRPC}, {"jaeger health", p.JaegerHealth},
		}...)
	}
	return l
}

// Config describes one local system.
type Config struct {
	// Bin holds the survey-svc, aggregator-svc and dashboard-svc binaries.
	Bin string
	// StateDir keeps etcd's data between runs.
	StateDir string
	// DatabaseURL returns the PostgreSQL URL of a service's database:
	// "blue", "red" or "aggregate".
	DatabaseURL func(name string) string
	// Jaeger, when set, is the Jaeger binary and JaegerConfig its config
	// file; without it tracing is off.
	Jaeger, JaegerConfig string
	Ports                Ports
	// Env adds environment variables to one process ("blue", "red",
	// "aggregator", "dashboard", "jaeger").
	Env map[string][]string
	// Log receives every process's output, prefixed with its name.
	Log io.Writer
}

// System is a running local system.
type System struct {
	cfg   Config
	etcd  *embed.Etcd
	procs []*named // in start order
}

type named struct {
	name string
	*launch.Process
}

// startTimeout bounds each process's start-up.
const startTimeout = 60 * time.Second

// Start checks that every port is free and PostgreSQL reachable, then
// starts etcd, Jaeger, survey-svc blue and red, the aggregator and the
// dashboard, each only once the one before is ready. If anything fails,
// what was started is stopped again and the error names the culprit.
func Start(ctx context.Context, cfg Config) (*System, error) {
	if err := preflight(ctx, cfg); err != nil {
		return nil, err
	}
	s := &System{cfg: cfg}
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

func (s *System) start(ctx context.Context) error {
	var err error
	if s.etcd, err = startEtcd(s.cfg); err != nil {
		return err
	}
	if s.cfg.Jaeger != "" {
		if err := s.run(ctx, "jaeger", s.jaegerSpec()); err != nil {
			return err
		}
	}
	for _, name := range []string{"blue", "red"} {
		if err := s.run(ctx, name, s.surveySpec(name)); err != nil {
			return err
		}
	}
	if err := s.run(ctx, "aggregator", s.aggregatorSpec()); err != nil {
		return err
	}
	return s.run(ctx, "dashboard", s.dashboardSpec())
}

func (s *System) run(ctx context.Context, name string, spec launch.Spec) error {
	spec.Name = name
	spec.Log = s.cfg.Log
	spec.Env = append(spec.Env, s.cfg.Env[name]...)
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	p, err := launch.Start(ctx, spec)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, &named{name, p})
	return nil
}

// Stop stops everything in reverse start order and waits for it.
func (s *System) Stop() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].Stop(30 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	s.procs = nil
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
	return errors.Join(errs...)
}

// Process returns the named running process, or nil.
func (s *System) Process(name string) *launch.Process {
	for _, p := range s.procs {
		if p.name == name {
			return p.Process
		}
	}
	return nil
}

// URL returns the base URL of "dashboard", "blue", "red", "aggregator" or
// "jaeger" (its query API).
func (s *System) URL(name string) string {
	p := s.cfg.Ports
	port := map[string]int{"dashboard": p.Dashboard, "blue": p.Blue, "red": p.Red, "aggregator": p.Aggregator, "jaeger": p.JaegerQuery}[name]
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// EtcdEndpoint is the embedded etcd's client URL.
func (s *System) EtcdEndpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.cfg.Ports.Etcd) }

func preflight(ctx context.Context, cfg Config) error {
	for _, p := range cfg.Ports.list(cfg.Jaeger != "") {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.port))
		if err != nil {
			return fmt.Errorf("port %d (%s) is taken: stop what uses it or choose another port", p.port, p.name)
		}
		ln.Close()
	}
	for _, name := range []string{"blue", "red", "aggregate"} {
		if err := checkPostgres(ctx, cfg.DatabaseURL(name)); err != nil {
			return err
		}
	}
	for _, bin := range []string{"survey-svc", "aggregator-svc", "dashboard-svc"} {
		if _, err := os.Stat(filepath.Join(cfg.Bin, bin)); err != nil {
			return fmt.Errorf("binary %s missing in %s (run make build): %w", bin, cfg.Bin, err)
		}
	}
	return nil
}

// checkPostgres dials the server of dsn: the databases themselves are
// created by the services.
func checkPostgres(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return fmt.Errorf("postgres url %q: want postgres://user@host:port/db", dsn)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("PostgreSQL unreachable at %s (start it, or set XII_POSTGRES_URL): %w", host, err)
	}
	return c.Close()
}
