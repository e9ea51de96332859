// Command aggregator-svc keeps the aggregate in step with every provider it
// finds in etcd and answers the dashboard: each answer is read after a sync
// that started after the request arrived.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	group "github.com/oklog/run"
	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/roster"
	"xii/aggregator-svc/syncer"
	"xii/aggregator-svc/tuning"
	"xii/aggregator-svc/watch"
	"xii/libs/deadline"
	"xii/libs/discovery"
	"xii/libs/httpserver"
	"xii/observability"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// main runs the service, or with "etcd-access" sets up etcd's users and
// roles (accessCommand).
func main() {
	if len(os.Args) > 1 && os.Args[1] == "etcd-access" {
		if err := accessCommand(context.Background(), os.Args[2:], os.LookupEnv, os.Stderr); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "aggregator-svc:", err)
			}
			os.Exit(1)
		}
		return
	}
	httpserver.Main("aggregator-svc", defaultListenAddr, run)
}

// run wires the service and serves until ctx is done. Then it lets
// in-flight requests finish, stops the background work (watches, polling,
// leadership), deregisters, and flushes telemetry.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, lookup, stderr)
	if err != nil {
		return err
	}
	logger, tel, err := observability.Start(ctx, observability.Config{
		ServiceName: "aggregator-svc", ServiceVersion: version, InstanceID: cfg.ID,
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
	etcd, err := discovery.NewClient(cfg.EtcdEndpoints, cfg.EtcdAuth)
	if err != nil {
		return err
	}
	defer etcd.Close()

	a, err := wire(ctx, cfg, logger, tel, store, etcd)
	if err != nil {
		return err
	}
	var g group.Group
	g.Add(a.server.Actor(ctx, ln, cfg.ShutdownTimeout))
	if cfg.PprofAddr != "" {
		execute, interrupt, err := httpserver.PprofActor(cfg.PprofAddr, logger)
		if err != nil {
			return err
		}
		g.Add(execute, interrupt)
	}
	watchOpts := watch.Options{Follow: discovery.FollowOptions{Logger: logger}, MeterProvider: tel.MeterProvider, Rejected: a.rejected}
	g.Add(httpserver.Background(ctx, "watch providers", func(ctx context.Context) error {
		return watch.Providers(ctx, etcd, watchOpts, a.known.SetProviders)
	}))
	g.Add(httpserver.Background(ctx, "watch retired", func(ctx context.Context) error {
		return watch.Retired(ctx, etcd, watchOpts, a.known.SetRetired)
	}))
	g.Add(httpserver.Background(ctx, "record providers", a.known.Run))
	g.Add(httpserver.Background(ctx, "watch tuning", func(ctx context.Context) error { return a.live.Run(ctx, etcd) }))
	g.Add(httpserver.Background(ctx, "leader election", a.elector.Run))
	g.Add(httpserver.Background(ctx, "poll", func(ctx context.Context) error {
		a.syncer.Poll(ctx, a.elector.IsLeader)
		return nil
	}))
	g.Add(httpserver.Background(ctx, "register", func(ctx context.Context) error {
		// A replica the dashboard finds must know its providers.
		select {
		case <-a.known.Confirmed():
		case <-ctx.Done():
			return nil
		}
		if err := a.registrar.Run(ctx); err != nil {
			// The lease expires by itself; not worth a failed exit.
			logger.Warn("deregister", "err", err)
		}
		return nil
	}))
	logger.Info("serving", "addr", ln.Addr().String())
	return g.Run()
}

// app is the wired service: its server and the background work it needs.
type app struct {
	server    *httpserver.Server
	syncer    *syncer.Syncer
	known     *roster.Roster
	live      *tuning.Live
	rejected  *watch.Rejected
	elector   *discovery.Elector
	registrar *discovery.Registrar
}

// wire builds the service on its store and etcd client. The providers the
// aggregate has known are loaded before it returns: they are covered from
// the first answer on, whatever etcd says or fails to say.
func wire(ctx context.Context, cfg config, logger *slog.Logger, tel *observability.Telemetry, store *postgres.Store, etcd *clientv3.Client) (*app, error) {
	live, err := tuning.NewLive(tuning.Defaults(), logger, tel.MeterProvider)
	if err != nil {
		return nil, err
	}
	syn, err := syncer.New(syncer.Options{
		Store:          storeWriter{store},
		Tuning:         live.Current,
		Coalesce:       cfg.Coalesce,
		Logger:         logger,
		TracerProvider: tel.TracerProvider,
		MeterProvider:  tel.MeterProvider,
	})
	if err != nil {
		return nil, err
	}
	sources := newSourceBuilder(cfg, tel, logger)
	known, err := roster.New(roster.Options{
		Store: store, Build: sources.build, Apply: syn.SetProviders, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	if err := known.Load(ctx); err != nil {
		return nil, err
	}
	elector, err := discovery.NewElector(etcd, discovery.ElectionConfig{ID: cfg.ID, Logger: logger})
	if err != nil {
		return nil, err
	}
	registrar, err := discovery.NewRegistrar(discovery.RegistrarConfig{
		Endpoints: cfg.EtcdEndpoints,
		Auth:      cfg.EtcdAuth,
		Prefix:    discovery.ServicesPrefix + "aggregator/",
		Name:      cfg.ID,
		Value:     cfg.AdvertiseURL,
		TTL:       cfg.RegisterTTL,
		Logger:    logger,
	})
	if err != nil {
		return nil, err
	}

	rejected := &watch.Rejected{}
	var reader aggregate.Reader = store
	if cfg.PageCacheBytes > 0 {
		cache := aggregate.NewPageCache(store, aggregate.DefaultPageCacheEntries, cfg.PageCacheBytes)
		if err := countPageCache(tel.MeterProvider, cache); err != nil {
			return nil, err
		}
		reader = cache
	}
	var svc aggregate.Service = aggregate.NewService(syn, reader, operations{syncer: syn, live: live, rejected: rejected},
		aggregate.WithReadReserve(deadline.NewReserve(cfg.ReadReserve)))
	svc = aggregate.LoggingMiddleware(logger)(svc)
	endpoints := aggregate.MakeEndpoints(svc).Wrap(observability.EndpointSpan)
	server := httpserver.New(httpserver.Routes{
		API:     tel.HTTPHandler(aggregate.NewHTTPHandler(endpoints, cfg.InternalToken, logger)),
		Metrics: tel.MetricsHandler(),
		Ready: func(ctx context.Context) error {
			return errors.Join(store.Ping(ctx), known.Ready(ctx))
		},
	}, logger, httpserver.WithMaxConns(cfg.MaxConns), httpserver.WithMaxInFlight(cfg.MaxInFlight))
	return &app{server: server, syncer: syn, known: known, live: live, rejected: rejected, elector: elector, registrar: registrar}, nil
}
