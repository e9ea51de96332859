package main

import (
	"context"
	"net/http"
	"time"

	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/provider"
	"xii/aggregator-svc/syncer"
	"xii/libs/discovery"
	"xii/observability"
)

// storeWriter adapts the store to the syncer, which needs of the apply
// counts only the quarantined one.
type storeWriter struct{ *postgres.Store }

func (w storeWriter) ApplyPage(ctx context.Context, name, from string, page provider.Page) (int, error) {
	applied, err := w.Store.ApplyPage(ctx, name, from, page)
	return applied.Quarantined, err
}

// sourceBuilder turns etcd's provider descriptors into the syncer's sources.
type sourceBuilder struct {
	client       *http.Client // to our own survey-svc instances: trace context propagated
	external     *http.Client // to other parties' APIs: nothing of ours in the headers
	tokens       map[string]provider.Credential
	maxPageBytes int64
}

func newSourceBuilder(cfg config, tel *observability.Telemetry) *sourceBuilder {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	// Under survey-svc's idle timeout, so the client is the one to close.
	transport.IdleConnTimeout = 20 * time.Second
	transport.ResponseHeaderTimeout = time.Minute // the request's context is the real bound
	return &sourceBuilder{
		client:       &http.Client{Transport: tel.Transport(transport)},
		external:     &http.Client{Transport: tel.ExternalTransport(transport)},
		tokens:       cfg.ProviderTokens,
		maxPageBytes: cfg.MaxPageBytes,
	}
}

// build returns the source of the provider name described by d; an error
// makes the provider misconfigured and is shown to clients, so it never
// holds a token.
func (b *sourceBuilder) build(name string, d discovery.Descriptor) (syncer.Source, error) {
	client := b.external
	if d.Dialect == provider.DialectXII {
		client = b.client
	}
	src, err := provider.New(name, d, provider.Options{
		HTTPClient:   client,
		Credential:   b.tokens[name],
		MaxPageBytes: b.maxPageBytes,
	})
	if err != nil {
		return syncer.Source{}, err
	}
	return syncer.Source{Name: name, Dialect: d.Dialect, Version: d.Dialect + " " + d.URL, Source: src}, nil
}
