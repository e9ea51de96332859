// Command survey-svc collects survey responses and exports them to the
// aggregator. One binary runs any number of instances; -name tells them
// apart (blue on :1101 and red on :1102 in the demo).
package main

import (
	"context"
	"io"
	"log/slog"

	group "github.com/oklog/run"

	"xii/libs/discovery"
	"xii/libs/httpserver"
	"xii/observability"
	"xii/survey-svc/postgres"
	"xii/survey-svc/survey"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { httpserver.Main("survey-svc", defaultListenAddr, run) }

// run wires the service and serves until ctx is done (SIGINT or SIGTERM).
// Then it stops taking requests and lets those in flight finish, then
// deregisters from etcd, then flushes telemetry.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, lookup, stderr)
	if err != nil {
		return err
	}
	logger, tel, err := observability.Start(ctx, observability.Config{
		ServiceName: "survey-svc", ServiceVersion: version, InstanceID: cfg.Name,
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

	store, err := postgres.Open(ctx, cfg.PostgresURL,
		postgres.WithTracerProvider(tel.TracerProvider), postgres.WithMeterProvider(tel.MeterProvider))
	if err != nil {
		return err
	}
	defer store.Close()

	server := wire(cfg, logger, tel, store)
	var g group.Group
	g.Add(server.Actor(ctx, ln, cfg.ShutdownTimeout))
	if cfg.PprofAddr != "" {
		execute, interrupt, err := httpserver.PprofActor(cfg.PprofAddr, logger)
		if err != nil {
			return err
		}
		g.Add(execute, interrupt)
	}
	if len(cfg.EtcdEndpoints) == 0 {
		logger.Warn("no etcd endpoints: not registering as a provider")
	} else {
		reg, err := newRegistrar(cfg, logger)
		if err != nil {
			return err
		}
		// Withdrawn only after the server has drained, so the aggregator
		// can still fetch from us until then.
		g.Add(httpserver.Background(ctx, "register", func(ctx context.Context) error {
			if err := reg.Run(ctx); err != nil {
				// The lease expires by itself; not worth a failed exit.
				logger.Warn("deregister", "err", err)
			}
			return nil
		}))
	}
	logger.Info("serving", "addr", ln.Addr().String())
	return g.Run()
}

// wire builds the service on its store.
func wire(cfg config, logger *slog.Logger, tel *observability.Telemetry, store *postgres.Store) *httpserver.Server {
	var svc survey.Service = survey.NewService(store)
	svc = survey.LoggingMiddleware(logger)(svc)
	endpoints := survey.MakeEndpoints(svc).Wrap(observability.EndpointSpan)
	api := survey.NewHTTPHandler(endpoints, survey.HTTPOptions{
		MaxBodyBytes: cfg.MaxBodyBytes, ExportToken: cfg.ExportToken, Logger: logger, SubmitLimit: cfg.RateLimit,
	})
	return httpserver.New(httpserver.Routes{
		API:     tel.PublicHandler(api),
		Metrics: tel.MetricsHandler(),
		Ready:   store.Ping,
	}, logger, httpserver.WithMaxConns(cfg.MaxConns), httpserver.WithMaxInFlight(cfg.MaxInFlight))
}

// newRegistrar returns the registrar of this instance's provider key.
func newRegistrar(cfg config, logger *slog.Logger) (*discovery.Registrar, error) {
	desc, err := discovery.Descriptor{URL: cfg.AdvertiseURL, Dialect: discovery.DialectXII}.Encode()
	if err != nil {
		return nil, err
	}
	return discovery.NewRegistrar(discovery.RegistrarConfig{
		Endpoints: cfg.EtcdEndpoints,
		Auth:      cfg.EtcdAuth,
		Prefix:    discovery.ProvidersPrefix,
		Name:      cfg.Name,
		Value:     desc,
		TTL:       cfg.RegisterTTL,
		Logger:    logger,
	})
}
