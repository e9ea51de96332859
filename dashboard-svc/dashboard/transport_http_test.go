package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"xii/libs/xiiapi"
)

func TestRoutes(t *testing.T) {
	complete := samplePage()
	complete.Sync = SyncReport{Complete: true, Providers: map[string]ProviderSync{"blue": {Status: xiiapi.StatusOK}}}
	stats := Stats{Groups: []Group{{Key: map[string]string{"device": "iOS", "location": "Germany"}, Count: 3}}, Total: 5, Sync: complete.Sync}
	tests := []struct {
		name, method, target string
		page                 Page
		err                  error
		wantStatus           int
		wantBody             []string // parts of the body
		wantSync             string   // X-Sync-Complete
	}{
		{"responses", "GET", "/api/v1/responses?device=iOS&location=Germany&limit=50", samplePage(), nil, 200,
			[]string{`"data":[{"provider":"blue"`, `"next_cursor":"eyJ0IjoxfQ"`, `"complete":false`, `"red":{"status":"timeout"`, `"lag_ms":1500`}, "false"},
		{"responses complete", "GET", "/api/v1/responses", complete, nil, 200, []string{`"complete":true`}, "true"},
		{"responses empty", "GET", "/api/v1/responses", Page{}, nil, 200, []string{`"data":[]`, `"next_cursor":""`, `"providers":{}`}, "false"},
		{"reporter", "GET", "/api/v1/reporter", complete, nil, 200, []string{`[{"provider":"blue"`, `"text":"request: 01 to blue survey"`}, "true"},
		{"reporter empty", "GET", "/api/v1/reporter?device=x&location=y&limit=5", Page{}, nil, 200, []string{"[]\n"}, "false"},
		{"stats", "GET", "/api/v1/stats?group_by=device,location&device=iOS", complete, nil, 200,
			[]string{`"groups":[{"key":{"device":"iOS","location":"Germany"},"count":3}]`, `"total":5`, `"sync":{"complete":true`}, "true"},
		{"head", "HEAD", "/api/v1/responses", complete, nil, 200, nil, "true"},
		{"post", "POST", "/api/v1/responses", complete, nil, 405, []string{`"code":"method_not_allowed"`}, "false"},
		{"delete stats", "DELETE", "/api/v1/stats", complete, nil, 405, []string{`"code":"method_not_allowed"`}, "false"},
		{"put reporter", "PUT", "/api/v1/reporter", complete, nil, 405, []string{`"code":"method_not_allowed"`}, "false"},
		{"unknown route", "GET", "/api/v1/nope", complete, nil, 404, []string{`"code":"not_found"`}, "false"},
		{"root", "GET", "/", complete, nil, 404, []string{`"code":"not_found"`}, "false"},
		{"rejected by the aggregator", "GET", "/api/v1/responses?cursor=eyJ0IjoxfQ", Page{},
			fmt.Errorf("%w: cursor: malformed (from the aggregator)", ErrInvalid), 400, []string{`cursor: malformed`, `"code":"invalid_request"`}, "false"},
		{"unavailable", "GET", "/api/v1/responses", Page{},
			fmt.Errorf("%w: dial tcp 10.1.2.3:1110: connection refused", ErrUnavailable), 503, []string{`"code":"aggregator_unavailable"`, `aggregator unavailable`}, "false"},
		{"timeout", "GET", "/api/v1/reporter", Page{}, fmt.Errorf("%w: status 504", ErrTimeout), 504, []string{`"code":"timeout"`}, "false"},
		{"deadline", "GET", "/api/v1/responses", Page{}, context.DeadlineExceeded, 504, []string{`"code":"timeout"`}, "false"},
		{"bad gateway", "GET", "/api/v1/responses", Page{}, fmt.Errorf("%w: status 404", ErrBadGateway), 502, []string{`"code":"bad_gateway"`}, "false"},
		{"canceled", "GET", "/api/v1/responses", Page{}, context.Canceled, 499, []string{`"code":"canceled"`}, "false"},
		{"internal", "GET", "/api/v1/responses", Page{}, errors.New("secret detail"), 500, []string{`"code":"internal"`}, "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agg := &stubAggregator{page: tt.page, stats: stats, err: tt.err}
			a := serve(t, newHandler(agg, HTTPOptions{}), tt.method, tt.target, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.wantStatus, a.body)
			}
			for _, part := range tt.wantBody {
				if !strings.Contains(string(a.body), part) {
					t.Errorf("body %s lacks %s", a.body, part)
				}
			}
			if got := a.header.Get(SyncCompleteHeader); got != tt.wantSync {
				t.Errorf("%s: %q, want %q", SyncCompleteHeader, got, tt.wantSync)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			if a.status == 405 && a.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q on 405", a.header.Get("Allow"))
			}
			if strings.Contains(string(a.body), "10.1.2.3") || strings.Contains(string(a.body), "secret detail") {
				t.Errorf("internal detail leaked: %s", a.body)
			}
		})
	}
}

// TestBadInput checks every class of bad input on every route: 400 with
// a message naming the problem, and the aggregator never asked.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name, query, wantMsg string
		routes               []string
		header               http.Header
	}{
		{"unknown parameter", "colour=red", "colour: unknown parameter", nil, nil},
		{"repeated parameter", "device=iOS&device=web", "device: given more than once", nil, nil},
		{"oversized query", "device=" + strings.Repeat("x", 5000), "query: longer than 4096 bytes", nil, nil},
		{"malformed query", "device=%zz", "query: malformed", nil, nil},
		{"bad time", "since=last+week", "since: must be an RFC 3339 time", nil, nil},
		{"since not before until", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "since: must be before until", nil, nil},
		{"long filter", "location=" + strings.Repeat("y", 129), "location: longer than 128 characters", nil, nil},
		{"bad timeout", "timeout=fast", "timeout: must be a positive duration", nil, nil},
		{"timeout too large", "timeout=1h", "timeout: 1h0m0s is longer than the maximum 10s", nil, nil},
		{"bad Request-Timeout", "", "Request-Timeout: must be a positive duration", nil, http.Header{"Request-Timeout": {"-1s"}}},
		{"bad limit", "limit=-3", "limit: must be an integer between 1 and 1000", []string{"/api/v1/responses", "/api/v1/reporter"}, nil},
		{"limit too large", "limit=5000", "limit: must be an integer between 1 and 1000", []string{"/api/v1/responses", "/api/v1/reporter"}, nil},
		{"bad cursor", "cursor=%21%21", "cursor: malformed", []string{"/api/v1/responses"}, nil},
		{"cursor on reporter", "cursor=eyJ0IjoxfQ", "cursor: unknown parameter", []string{"/api/v1/reporter"}, nil},
		{"bad group_by", "group_by=device,colour", `group_by: \"colour\" is not one of`, []string{"/api/v1/stats"}, nil},
		{"repeated group_by dimension", "group_by=device,device", `group_by: \"device\" given twice`, []string{"/api/v1/stats"}, nil},
		{"limit on stats", "limit=5", "limit: unknown parameter", []string{"/api/v1/stats"}, nil},
	}
	all := []string{"/api/v1/responses", "/api/v1/stats", "/api/v1/reporter"}
	for _, tt := range tests {
		routes := tt.routes
		if routes == nil {
			routes = all
		}
		for _, route := range routes {
			t.Run(tt.name+" "+route, func(t *testing.T) {
				agg := &stubAggregator{}
				a := serve(t, newHandler(agg, HTTPOptions{}), "GET", route+"?"+tt.query, tt.header)
				if a.status != 400 || !strings.Contains(string(a.body), tt.wantMsg) || !strings.Contains(string(a.body), `"code":"invalid_request"`) {
					t.Fatalf("status %d body %s; want 400 naming %s", a.status, a.body, tt.wantMsg)
				}
				if a.header.Get(SyncCompleteHeader) != "false" {
					t.Errorf("%s missing on a 400", SyncCompleteHeader)
				}
				if n := agg.calls(); n != 0 {
					t.Errorf("the aggregator was asked %d times about a bad request", n)
				}
			})
		}
	}
}

func TestQueryReachesTheAggregator(t *testing.T) {
	agg := &stubAggregator{}
	h := newHandler(agg, HTTPOptions{})
	serve(t, h, "GET", "/api/v1/reporter", nil)
	serve(t, h, "GET", "/api/v1/responses?device=iOS&location=Germany&limit=7&cursor=eyJ0IjoxfQ&provider=red&survey=nps", nil)
	serve(t, h, "GET", "/api/v1/stats?group_by=location,device&device=iOS", nil)
	want := []Query{
		{Limit: DefaultLimit},
		{Filter: Filter{Device: "iOS", Location: "Germany", Provider: "red", Survey: "nps"}, Limit: 7, Cursor: "eyJ0IjoxfQ"},
	}
	if len(agg.queries) != 2 || !sameQuery(agg.queries[0], want[0]) || !sameQuery(agg.queries[1], want[1]) {
		t.Fatalf("aggregator asked %+v, want %+v", agg.queries, want)
	}
	if len(agg.stQueries) != 1 || strings.Join(agg.stQueries[0].GroupBy, ",") != "location,device" || agg.stQueries[0].Filter.Device != "iOS" {
		t.Fatalf("aggregator asked stats %+v", agg.stQueries)
	}
}

// TestAnswerHeaders: every answer of the API, errors and unknown routes
// included, says it must not be cached and names its trace.
func TestAnswerHeaders(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	api := newHandler(&stubAggregator{page: samplePage()}, HTTPOptions{Token: "0123456789abcdef"})
	for _, target := range []string{"/api/v1/responses", "/api/v1/responses.csv", "/api/v1/nope"} {
		for _, method := range []string{"GET", "DELETE"} {
			req := httptest.NewRequest(method, target, nil)
			ctx, span := tp.Tracer("test").Start(req.Context(), "request")
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req.WithContext(ctx))
			span.End()
			if h := rec.Result().Header; h.Get("Cache-Control") != "no-store" || h.Get(TraceIDHeader) != span.SpanContext().TraceID().String() {
				t.Errorf("%s %s (%d): Cache-Control %q, %s %q", method, target, rec.Code, h.Get("Cache-Control"), TraceIDHeader, h.Get(TraceIDHeader))
			}
		}
	}
	// Without a span (tracing off) there is no id to give.
	if a := serve(t, api, "GET", "/api/v1/responses", nil); a.header.Get(TraceIDHeader) != "" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("untraced: %v", a.header)
	}
}
