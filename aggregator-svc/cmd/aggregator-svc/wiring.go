package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/provider"
	"xii/aggregator-svc/syncer"
	"xii/libs/discovery"
	"xii/observability"
)

// storeWriter adapts the store to the syncer, which needs no apply counts.
type storeWriter struct{ *postgres.Store }

func (w storeWriter) ApplyPage(ctx context.Context, name, from string, page provider.Page) error {
	_, err := w.Store.ApplyPage(ctx, name, from, page)
	return err
}

// sourceBuilder turns etcd's provider descriptors into the syncer's sources.
type sourceBuilder struct {
	client       *http.Client
	tokens       map[string]string
	maxPageBytes int64
	logger       *slog.Logger
}

func newSourceBuilder(cfg config, tel *observability.Telemetry, logger *slog.Logger) *sourceBuilder {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	transport.ResponseHeaderTimeout = time.Minute // the request's context is the real bound
	return &sourceBuilder{
		client:       &http.Client{Transport: tel.Transport(transport)},
		tokens:       cfg.ProviderTokens,
		maxPageBytes: cfg.MaxPageBytes,
		logger:       logger,
	}
}

// build returns a source per usable descriptor; one that cannot be used is
// logged and left out, never fatal.
func (b *sourceBuilder) build(ds map[string]discovery.Descriptor) []syncer.Source {
	sources := make([]syncer.Source, 0, len(ds))
	for name, d := range ds {
		src, err := provider.New(name, provider.Descriptor{URL: d.URL, Dialect: d.Dialect}, provider.Options{
			HTTPClient:   b.client,
			Token:        b.tokens[name],
			MaxPageBytes: b.maxPageBytes,
		})
		if err != nil {
			b.logger.Warn("provider ignored", "provider", name, "err", err)
			continue
		}
		sources = append(sources, syncer.Source{Name: name, Dialect: d.Dialect, Version: d.Dialect + " " + d.URL, Source: src})
	}
	b.logger.Info("providers", "count", len(sources))
	return sources
}
