package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/baggage"

	"xii/aggregator-svc/provider"
	"xii/libs/discovery"
	"xii/observability"
)

// TestSourcesPropagateOnlyToOurOwn: a fetch from one of our survey-svc
// instances carries the trace context; one from an external provider
// carries neither trace context nor baggage, only what its API needs.
func TestSourcesPropagateOnlyToOurOwn(t *testing.T) {
	tel, err := observability.Init(t.Context(), observability.Config{ServiceName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]http.Header{}
	queries := map[string]url.Values{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		queries[r.URL.Path] = r.URL.Query()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"total_items":0,"page_count":0,"items":[],"data":[],"next_cursor":"","has_more":false}`))
	}))
	t.Cleanup(srv.Close)
	tf, err := provider.ParseCredential(srv.URL + "@tfp_token")
	if err != nil {
		t.Fatal(err)
	}
	al, err := provider.ParseCredential(srv.URL + "/v5/survey/42@al_token:al_secret")
	if err != nil {
		t.Fatal(err)
	}
	b := newSourceBuilder(config{ProviderTokens: map[string]provider.Credential{"acme": tf, "gizmo": al}}, tel, slog.New(slog.DiscardHandler))

	member, _ := baggage.NewMember("tenant", "blue")
	bag, _ := baggage.New(member)
	ctx, span := tel.TracerProvider.Tracer("test").Start(baggage.ContextWithBaggage(context.Background(), bag), "sync")
	defer span.End()
	for name, d := range map[string]discovery.Descriptor{
		"blue":  {URL: srv.URL + "/blue", Dialect: provider.DialectXII},
		"acme":  {URL: srv.URL + "/forms/u6nXL7", Dialect: provider.DialectTypeform},
		"gizmo": {URL: srv.URL + "/v5/survey/42", Dialect: provider.DialectAlchemer},
	} {
		src, err := b.build(name, d)
		if err != nil {
			t.Fatalf("build %s: %v", name, err)
		}
		src.Source.Fetch(ctx, provider.Request{Limit: 10}) // the answer does not matter here
	}
	mu.Lock()
	defer mu.Unlock()
	own, external := seen["/blue/api/v1/responses"], seen["/forms/u6nXL7/responses"]
	if own == nil || external == nil {
		t.Fatalf("requests seen: %v", seen)
	}
	if own.Get("Traceparent") == "" {
		t.Error("our own survey-svc got no traceparent")
	}
	for _, h := range []string{"Traceparent", "Tracestate", "Baggage"} {
		if v := external.Get(h); v != "" {
			t.Errorf("the external provider got %s: %q", h, v)
		}
	}
	if external.Get("Authorization") != "Bearer tfp_token" {
		t.Errorf("the external provider got Authorization %q, want its own token", external.Get("Authorization"))
	}
	gizmo := seen["/v5/survey/42/surveyresponse"]
	if gizmo == nil || gizmo.Get("Authorization") != "" || gizmo.Get("Traceparent") != "" || gizmo.Get("Baggage") != "" {
		t.Errorf("alchemer request headers %v: want no Authorization, no trace context, no baggage", gizmo)
	}
	if q := queries["/v5/survey/42/surveyresponse"]; q.Get("api_token") != "al_token" || q.Get("api_token_secret") != "al_secret" {
		t.Errorf("alchemer got query %v, want its token and secret", q)
	}
	// Sources of one token share a limiter; another token gets its own.
	if l := b.limiter(provider.DialectAlchemer, al.Token); l == nil || l != b.limiter(provider.DialectAlchemer, al.Token) ||
		l == b.limiter(provider.DialectAlchemer, "other:token") || b.limiter(provider.DialectXII, al.Token) != nil {
		t.Error("limiters are not shared by token")
	}
}
