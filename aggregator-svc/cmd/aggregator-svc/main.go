// Command aggregator-svc keeps the aggregate in step with every provider it
// finds in etcd and answers the dashboard: each answer is read after a sync
// that started after the request arrived.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/leader"
	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/roster"
	"xii/aggregator-svc/syncer"
	"xii/aggregator-svc/tuning"
	"xii/aggregator-svc/watch"
	"xii/libs/discovery"
	"xii/libs/httpserver"
	"xii/observability"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { httpserver.Main("aggregator-svc", defaultListenAddr, run) }

// run wires the service and serves until ctx is done. Then it lets
// in-flight requests finish, stops the background work (watches, polling,
// leadership), deregisters, and flushes telemetry.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, lookup, stderr)
	if err != nil {
		return err
	}
	logger := observability.WithService(observability.NewLogger(stdout, cfg.LogLevel), "aggregator-svc")
	logger.Info("starting", "version", version, "config", cfg)

	tel, err := observability.Init(ctx, observability.Config{
		ServiceName: "aggregator-svc", ServiceVersion: version, InstanceID: cfg.ID, Logger: logger,
	})
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

	etcd, err := discovery.NewClient(cfg.EtcdEndpoints)
	if err != nil {
		return err
	}
	defer etcd.Close()

	live, err := tuning.NewLive(tuning.Defaults(), logger, tel.MeterProvider)
	if err != nil {
		return err
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
		return err
	}
	sources := newSourceBuilder(cfg, tel)
	known, err := roster.New(roster.Options{
		Store: store, Build: sources.build, Apply: syn.SetProviders, Logger: logger,
	})
	if err != nil {
		return err
	}
	// The providers the aggregate has known are covered from the first
	// answer on, whatever etcd says or fails to say.
	if err := known.Load(ctx); err != nil {
		return err
	}
	elector, err := leader.New(etcd, leader.Config{ID: cfg.ID, Logger: logger})
	if err != nil {
		return err
	}
	registrar, err := discovery.NewRegistrar(discovery.RegistrarConfig{
		Endpoints: cfg.EtcdEndpoints,
		Prefix:    discovery.ServicesPrefix + "aggregator/",
		Name:      cfg.ID,
		Value:     cfg.AdvertiseURL,
		TTL:       cfg.RegisterTTL,
		Logger:    logger,
	})
	if err != nil {
		return err
	}

	var svc aggregate.Service = aggregate.NewService(syn, store)
	endpoints := aggregate.MakeEndpoints(svc).Wrap(observability.EndpointSpan)
	server := httpserver.New(httpserver.Routes{
		API:     tel.HTTPHandler(aggregate.NewHTTPHandler(endpoints, logger)),
		Metrics: tel.MetricsHandler(),
		Ready: func(ctx context.Context) error {
			return errors.Join(store.Ping(ctx), known.Ready(ctx))
		},
	}, logger)

	// Background work outlives ctx until the server has drained.
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	var wg sync.WaitGroup
	errs := make(chan error, 7)
	goBackground := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(bg); err != nil && bg.Err() == nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	watchOpts := watch.Options{Follow: discovery.FollowOptions{Logger: logger}, MeterProvider: tel.MeterProvider}
	goBackground("watch providers", func(ctx context.Context) error {
		return watch.Providers(ctx, etcd, watchOpts, known.SetProviders)
	})
	goBackground("watch retired", func(ctx context.Context) error {
		return watch.Retired(ctx, etcd, watchOpts, known.SetRetired)
	})
	goBackground("record providers", known.Run)
	goBackground("watch tuning", func(ctx context.Context) error { return live.Run(ctx, etcd) })
	goBackground("leader election", elector.Run)
	goBackground("poll", func(ctx context.Context) error { syn.Poll(ctx, elector.IsLeader); return nil })
	goBackground("register", func(ctx context.Context) error {
		// A replica the dashboard finds must know its providers.
		select {
		case <-known.Confirmed():
		case <-ctx.Done():
			return nil
		}
		if err := registrar.Run(ctx); err != nil {
			// The lease expires by itself; not worth a failed exit.
			logger.Warn("deregister", "err", err)
		}
		return nil
	})

	logger.Info("serving", "addr", ln.Addr().String())
	serveErr := server.Serve(ctx, ln, cfg.ShutdownTimeout)
	stopBackground()
	wg.Wait()
	close(errs)
	all := []error{serveErr}
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}
