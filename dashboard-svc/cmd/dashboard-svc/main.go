// Command dashboard-svc serves the public read API (:1100): fresh,
// filtered pages and counts of the aggregated survey responses. It is
// stateless; it finds the aggregator's replicas in etcd and asks them.
//
// /readyz reports ready while at least one aggregator replica is known:
// without one every API request would fail with 503. An etcd outage alone
// does not make it unready, since the replicas known before it are kept.
package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	group "github.com/oklog/run"

	"xii/dashboard-svc/aggregator"
	"xii/dashboard-svc/dashboard"
	"xii/dashboard-svc/web"
	"xii/libs/httpserver"
	"xii/observability"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { httpserver.Main("dashboard-svc", defaultListenAddr, run) }

// run wires the service and serves until ctx is done (SIGINT or SIGTERM).
// Then it stops taking requests and lets those in flight finish, then stops
// following etcd, then flushes telemetry.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, lookup, stderr)
	if err != nil {
		return err
	}
	logger, tel, err := observability.Start(ctx, observability.Config{
		ServiceName: "dashboard-svc", ServiceVersion: version,
	}, stdout, cfg.LogLevel, "config", cfg)
	if err != nil {
		return err
	}
	defer tel.Flush(ctx, logger)

	ln, err := httpserver.Listen(cfg.ListenAddr)
	if err != nil {
		return err
	}
	defer ln.Close()

	agg, err := aggregator.New(aggregator.Config{
		EtcdEndpoints: cfg.EtcdEndpoints,
		EtcdAuth:      cfg.EtcdAuth,
		EtcdTimeout:   cfg.EtcdTimeout,
		AnswerReserve: cfg.AnswerReserve,
		HTTPClient:    &http.Client{Transport: tel.Transport(aggregator.NewTransport())},
		Attempts:      cfg.Attempts,
		Token:         cfg.InternalToken,
		Logger:        logger,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := agg.Close(); err != nil {
			logger.Warn("close aggregator client", "err", err)
		}
	}()

	server, err := wire(cfg, logger, tel, agg)
	if err != nil {
		return err
	}
	var g group.Group
	g.Add(server.Actor(ctx, ln, cfg.ShutdownTimeout))
	if cfg.PprofAddr != "" {
		execute, interrupt, err := httpserver.PprofActor(cfg.PprofAddr, logger)
		if err != nil {
			return err
		}
		g.Add(execute, interrupt)
	}
	logger.Info("serving", "addr", ln.Addr().String(), "aggregator_replicas", agg.Replicas())
	return g.Run()
}

// wire builds the service on its aggregator client, and the web page
// beside its API.
func wire(cfg config, logger *slog.Logger, tel *observability.Telemetry, agg *aggregator.Client) (*httpserver.Server, error) {
	var svc dashboard.Service = dashboard.NewService(agg)
	svc = dashboard.LoggingMiddleware(logger)(svc)
	endpoints := dashboard.MakeEndpoints(svc).Wrap(observability.EndpointSpan)
	api := dashboard.NewHTTPHandler(endpoints, dashboard.HTTPOptions{
		Token: cfg.APIToken, Deadlines: cfg.Deadlines, Logger: logger, RateLimit: cfg.RateLimit,
	})
	if err := web.Register(api, web.Options{JaegerURL: cfg.JaegerUIURL}); err != nil {
		return nil, err
	}
	return httpserver.New(httpserver.Routes{
		API:     tel.PublicHandler(api),
		Metrics: tel.MetricsHandler(),
		Ready:   agg.Ready,
	}, logger, httpserver.WithMaxConns(cfg.MaxConns), httpserver.WithMaxInFlight(cfg.MaxInFlight)), nil
}
