package postgres

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"xii/libs/pgtest"
	"xii/survey-svc/survey"
)

// TestSpans checks that database spans are named by statement kind, carry
// the query text and the database, and never a value or the password.
func TestSpans(t *testing.T) {
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	const password = "span-pw-1d0b" // ignored by a trust-auth server, but in the DSN
	u.User = url.UserPassword(u.User.Username(), password)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(t.Context())

	s, err := Open(t.Context(), u.String(), WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	r := survey.NewResponse{Survey: "span-survey-5e1f", Text: "span-text-77aa", Device: "span-device-c3", Location: "span-loc-90"}
	if _, err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Export(ctx, survey.ExportQuery{Limit: 10, Filter: survey.Filter{Device: r.Device}}); err != nil {
		t.Fatal(err)
	}
	parent.End()

	secrets := []string{password, r.Survey, r.Text, r.Device, r.Location}
	var names []string
	for _, span := range rec.Ended() {
		if span.Parent().SpanID() != parent.SpanContext().SpanID() || span.SpanKind() != trace.SpanKindClient {
			continue
		}
		names = append(names, span.Name())
		attrs := map[string]string{}
		for _, kv := range span.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
			for _, secret := range secrets {
				if strings.Contains(kv.Value.Emit(), secret) {
					t.Errorf("span %s attribute %s reveals %q", span.Name(), kv.Key, secret)
				}
			}
		}
		if attrs["db.system.name"] != "postgresql" || attrs["db.namespace"] != strings.TrimPrefix(u.Path, "/") {
			t.Errorf("span %s: db.system.name %q, db.namespace %q", span.Name(), attrs["db.system.name"], attrs["db.namespace"])
		}
		if kind := span.Name(); (kind == "INSERT" || kind == "SELECT") &&
			(attrs["db.operation.name"] != kind || !strings.Contains(attrs["db.query.text"], "$1")) {
			t.Errorf("span %s: db.operation.name %q, db.query.text %q", kind, attrs["db.operation.name"], attrs["db.query.text"])
		}
	}
	t.Logf("spans: %q", names)
	for _, want := range []string{"INSERT", "SELECT"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s span under the request; spans: %q", want, names)
		}
	}
}
