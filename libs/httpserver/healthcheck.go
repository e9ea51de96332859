package httpserver

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"xii/libs/envflag"
)

// HealthcheckTimeout bounds one health check by default: a container
// runtime's probe should fail fast rather than pile up.
const HealthcheckTimeout = 3 * time.Second

// Healthcheck asks url (a service's /healthz or /readyz) once and returns
// nil only if it answers 200 OK before ctx is done.
func Healthcheck(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}

// HealthURL returns the /healthz URL of a server listening on listenAddr,
// as seen from the same host: an unspecified host (":1101", "0.0.0.0:1101")
// is reached over the loopback interface.
func HealthURL(listenAddr string) (string, error) {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return "", fmt.Errorf("listen-addr: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// HealthcheckCommand runs a service binary's "healthcheck" subcommand, for
// container images without a shell or curl:
//
//	survey-svc healthcheck [-url http://127.0.0.1:1101/healthz] [-timeout 3s]
//
// The default URL is the service's own /healthz, on the port of
// XII_LISTEN_ADDR (as lookup sees it) or else defaultListen. It returns the
// process exit code: 0 healthy, 1 not, 2 bad usage.
func HealthcheckCommand(ctx context.Context, args []string, defaultListen string, lookup func(string) (string, bool), stderr io.Writer) int {
	listen := defaultListen
	if v, ok := lookup(envflag.Name("XII", "listen-addr")); ok {
		listen = v
	}
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "URL that must answer 200 (default: /healthz on the listen address's port)")
	timeout := fs.Duration("timeout", HealthcheckTimeout, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "healthcheck: unexpected arguments: %q\n", fs.Args())
		return 2
	}
	if *url == "" {
		u, err := HealthURL(listen)
		if err != nil {
			fmt.Fprintln(stderr, "healthcheck:", err)
			return 2
		}
		*url = u
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := Healthcheck(ctx, *url); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
