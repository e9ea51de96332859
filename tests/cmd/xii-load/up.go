package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"xii/deployments/system"
)

// cmdUp starts a system to measure, isolated from any other on the
// machine: free ports, fresh databases, a temporary etcd.
func cmdUp(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("up", "Start a whole system (embedded etcd, optionally Jaeger, survey-svc blue and red,\n"+
		"aggregator, dashboard) from built binaries on free ports, with fresh databases that are\n"+
		"dropped when it stops. Prints the URLs as shell assignments (XII_DASHBOARD=..., last\n"+
		"XII_READY=1), then runs until interrupted or until -for has passed. With -delayed-provider\n"+
		"a third survey-svc, green, runs behind an in-process proxy that delays every request the\n"+
		"aggregator sends it (XII_GREEN is green itself, for writes).", stderr)
	cfg := system.Config{Log: io.Discard, Env: map[string][]string{}}
	root := fs.String("root", ".", "the repository root")
	bin := fs.String("bin", "bin", "the service binaries (make build), relative to -root")
	pg := fs.String("postgres-url", defaultPostgres, "PostgreSQL server to create the databases on")
	jaeger := fs.Bool("jaeger", false, "run Jaeger and export every span to it (otherwise OTEL_TRACES_EXPORTER=none)")
	coalesce := fs.Bool("coalesce", true, "let the aggregator share sync rounds (false sets XII_COALESCE=false: a round per request)")
	lifetime := fs.Duration("for", 30*time.Minute, "stop after this long")
	logFile := fs.String("log", "", "append the services' output to this file (empty: discard it)")
	delay := fs.Duration("delayed-provider", 0, "start a third survey-svc, green, that the aggregator reaches through a proxy delaying each request this long (0: none)")
	fs.Func("env", "service=NAME=VALUE: an environment variable for one service (blue, red, green, aggregator, dashboard); repeatable",
		func(s string) error {
			svc, kv, ok := strings.Cut(s, "=")
			if !ok || !strings.Contains(kv, "=") || !slices.Contains([]string{"blue", "red", delayedName, "aggregator", "dashboard"}, svc) {
				return fmt.Errorf("%q: want service=NAME=VALUE", s)
			}
			cfg.Env[svc] = append(cfg.Env[svc], kv)
			return nil
		})
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.Bin = filepath.Join(*root, *bin)
	if *lifetime <= 0 {
		return errors.New("-for: must be positive")
	}
	if *delay < 0 {
		return errors.New("-delayed-provider: must not be negative")
	}
	if !*coalesce {
		cfg.Env["aggregator"] = append(cfg.Env["aggregator"], "XII_COALESCE=false")
	}
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		defer f.Close()
		cfg.Log = f
	}
	if *jaeger {
		if cfg.Jaeger, err = jaegerBinary(ctx, *root); err != nil {
			return err
		}
		cfg.JaegerConfig = filepath.Join(*root, "observability", "jaeger", "config.yaml")
	}
	if cfg.Ports, err = freePorts(); err != nil {
		return err
	}
	if cfg.StateDir, err = os.MkdirTemp("", "xii-load-"); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	defer os.RemoveAll(cfg.StateDir)
	s, serr := openScratch(ctx, *pg)
	if serr != nil {
		return serr
	}
	defer func() { err = errors.Join(err, s.drop()) }()
	dbs := map[string]string{}
	for _, name := range []string{"blue", "red", "aggregate"} {
		if dbs[name], err = s.create(ctx, "xii_load_"+name+"_"); err != nil {
			return err
		}
	}
	cfg.DatabaseURL = func(name string) string { return dbs[name] }

	start := time.Now()
	sys, err := system.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sys.Stop()) }()
	var green *delayed
	if *delay > 0 {
		if green, err = startDelayed(ctx, sys, s, *delay); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, green.stop()) }()
	}
	// One write, ending with XII_READY=1, so a script can wait for that line.
	vars := fmt.Sprintf("XII_DASHBOARD=%s\nXII_BLUE=%s\nXII_RED=%s\nXII_AGGREGATOR=%s\nXII_ETCD=%s\n",
		sys.URL("dashboard"), sys.URL("blue"), sys.URL("red"), sys.URL("aggregator"), sys.EtcdEndpoint())
	if *jaeger {
		vars += fmt.Sprintf("XII_JAEGER=%s\n", sys.URL("jaeger"))
	}
	// The processes whose CPU is the system's: the services, and this one,
	// which runs the embedded etcd.
	// This one also runs green's delay proxy.
	pids, names := []string{strconv.Itoa(os.Getpid())}, []string{"harness"}
	for _, name := range []string{"dashboard", "aggregator", "blue", "red"} {
		pids, names = append(pids, strconv.Itoa(sys.Process(name).Pid())), append(names, name)
	}
	if green != nil {
		vars += fmt.Sprintf("XII_GREEN=%s\nXII_GREEN_PROXY=%s\nXII_GREEN_DB='%s'\n", green.url, green.proxy.url, green.db)
		pids, names = append(pids, strconv.Itoa(green.proc.Pid())), append(names, delayedName)
	}
	vars += "XII_PIDS=" + strings.Join(pids, ",") + "\nXII_PID_NAMES=" + strings.Join(names, ",") + "\n"
	vars += fmt.Sprintf("XII_BLUE_DB='%s'\nXII_RED_DB='%s'\nXII_AGGREGATE_DB='%s'\nXII_READY=1\n", dbs["blue"], dbs["red"], dbs["aggregate"])
	fmt.Fprint(stdout, vars)
	fmt.Fprintf(stderr, "xii-load up: started in %s (coalesce=%v, jaeger=%v, delayed provider %v); stops in %s or on interrupt\n",
		time.Since(start).Round(10*time.Millisecond), *coalesce, *jaeger, *delay, *lifetime)
	if err := sleep(ctx, *lifetime); err != nil {
		fmt.Fprintln(stderr, "xii-load up: stopping")
	}
	return nil
}

// freePorts returns distinct free ports for a whole system.
func freePorts() (system.Ports, error) {
	var ps [11]int
	for i := range ps {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return system.Ports{}, fmt.Errorf("free port: %w", err)
		}
		defer ln.Close() // held until all are chosen, so they differ
		ps[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return system.Ports{
		Dashboard: ps[0], Blue: ps[1], Red: ps[2], Aggregator: ps[3], Etcd: ps[4], EtcdPeer: ps[5],
		JaegerOTLPGRPC: ps[6], JaegerOTLPHTTP: ps[7], JaegerQuery: ps[8], JaegerQueryGRPC: ps[9], JaegerHealth: ps[10],
	}, nil
}

// jaegerBinary returns Jaeger built from its tools module (cached after
// the first, slow build).
func jaegerBinary(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "-C", filepath.Join(root, "observability", "jaeger"), "tool", "-n", "jaeger")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build jaeger: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
