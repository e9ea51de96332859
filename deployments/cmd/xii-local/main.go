// Command xii-local runs the whole system on this machine (make run): an
// embedded etcd, Jaeger, survey-svc blue and red, the aggregator and the
// dashboard, against the local PostgreSQL. Ctrl-C stops everything in
// reverse order.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"xii/deployments/system"
	"xii/libs/envflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "xii-local:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("xii-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "the repository root")
	bin := fs.String("bin", "bin", "where make build put the service binaries, relative to -root")
	state := fs.String("state-dir", ".xii-local", "where etcd keeps its data between runs, relative to -root")
	pg := fs.String("postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server; the services create databases xii_survey_blue, xii_survey_red and xii_aggregate on it")
	jaeger := fs.Bool("jaeger", true, "build and run Jaeger (the first build takes several minutes)")
	if err := envflag.Parse(fs, "XII", args, nil); err != nil {
		return err
	}
	base, err := url.Parse(*pg)
	if err != nil || (base.Scheme != "postgres" && base.Scheme != "postgresql") {
		return errors.New("postgres-url: must be a postgres:// URL")
	}
	cfg := system.Config{
		Bin:      filepath.Join(*root, *bin),
		StateDir: filepath.Join(*root, *state),
		DatabaseURL: func(name string) string {
			u := *base
			u.Path = "/" + map[string]string{"blue": "xii_survey_blue", "red": "xii_survey_red", "aggregate": "xii_aggregate"}[name]
			return u.String()
		},
		Ports: system.DefaultPorts(),
		Log:   stdout,
	}
	if *jaeger {
		fmt.Fprintln(stdout, "xii-local: building Jaeger if needed (first time: several minutes)...")
		if cfg.Jaeger, err = JaegerBinary(ctx, *root); err != nil {
			return err
		}
		cfg.JaegerConfig = filepath.Join(*root, "observability", "jaeger", "config.yaml")
	}
	start := time.Now()
	sys, err := system.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, banner, time.Since(start).Round(10*time.Millisecond), sys.EtcdEndpoint())
	<-ctx.Done()
	fmt.Fprintln(stdout, "xii-local: stopping")
	return sys.Stop()
}

// JaegerBinary builds Jaeger from its tools module (cached after the first
// time) and returns the binary's path.
func JaegerBinary(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "-C", filepath.Join(root, "observability", "jaeger"), "tool", "-n", "jaeger")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build jaeger: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

const banner = `
xii is running (started in %v):
  dashboard    http://localhost:1100/api/v1/responses   (public API)
  survey blue  http://localhost:1101/api/v1/reporter
  survey red   http://localhost:1102/api/v1/reporter
  aggregator   http://localhost:1110/api/v1/responses   (internal)
  metrics      http://localhost:<port>/metrics on each service
  Jaeger       http://localhost:16686/api/traces?service=dashboard-svc   (when -jaeger)
  etcd         %s — make etcdctl ARGS="get --prefix /xii/"
Ctrl-C stops everything.
`
