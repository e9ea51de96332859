package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"xii/testkit/openapitest"

	"github.com/getkin/kin-openapi/openapi3"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"xii/libs/httpserver"
)

// probe is a request that provokes one documented status.
type probe struct {
	query    string
	header   http.Header
	token    string // the token the service runs with; the probe sends none
	aggErr   error
	notReady bool
	// limited: the client has used up its rate limit before the probe.
	limited bool
}

// routeParams are the query parameters each API route accepts.
var routeParams = map[string][]string{
	"/api/v1/responses":     responsesParams,
	"/api/v1/stats":         statsParams,
	"/api/v1/reporter":      reporterParams,
	"/api/v1/providers":     providersParams,
	"/api/v1/responses.csv": csvParams,
}

// companions are the parameters a documented parameter is only valid
// with, keyed "route parameter": its example is sent with them.
var companions = map[string]string{
	"/api/v1/stats interval": "group_by=time",
}

// probes returns a way to provoke every status the dashboard's routes
// answer, keyed "METHOD route status".
func probes() map[string]probe {
	p := map[string]probe{
		"GET /healthz 200": {},
		"GET /readyz 200":  {},
		"GET /readyz 503":  {notReady: true},
		"GET /metrics 200": {},
	}
	for route := range routeParams {
		for status, pr := range map[int]probe{
			200: {},
			400: {query: "colour=red"},
			401: {token: "0123456789abcdef"},
			429: {limited: true},
			500: {aggErr: errors.New("boom")},
			502: {aggErr: ErrBadGateway},
			503: {aggErr: ErrUnavailable},
			504: {aggErr: ErrTimeout},
		} {
			p["GET "+route+" "+strconv.Itoa(status)] = pr
		}
	}
	return p
}

// probeServer is the whole server pr runs against, operational routes
// included, as cmd wires it.
func probeServer(pr probe) http.Handler {
	agg := &stubAggregator{page: samplePage(), stats: Stats{Groups: []Group{{Key: map[string]string{"device": "iOS"}, Count: 2}}, Total: 2, Sync: samplePage().Sync}, err: pr.aggErr}
	opts := HTTPOptions{Token: pr.token}
	if pr.limited {
		opts.RateLimit = httpserver.RateLimit{PerSecond: 1e-6, Burst: 1}
	}
	api := newHandler(agg, opts)
	if pr.limited { // the one request of the burst, from the probe's address
		api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", apiHost+"/api/v1/responses", nil))
	}
	// A span around every request, as the service's telemetry makes one,
	// so that answers carry a trace id.
	tp := sdktrace.NewTracerProvider()
	traced := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tp.Tracer("probe").Start(r.Context(), "probe")
		defer span.End()
		api.ServeHTTP(w, r.WithContext(ctx))
	})
	return httpserver.New(httpserver.Routes{
		API: traced,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			w.Write([]byte("# no metrics in this test\n"))
		}),
		Ready: func(context.Context) error {
			if pr.notReady {
				return errors.New("no aggregator replica known")
			}
			return nil
		},
	}, slog.New(slog.DiscardHandler)).Handler()
}

// probeRequest is pr's request, addressed to dashboard-svc's server.
func probeRequest(method, route string, pr probe) *http.Request {
	target := apiHost + route
	if pr.query != "" {
		target += "?" + pr.query
	}
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range pr.header {
		req.Header[k] = vs
	}
	return req
}

// serveProbe answers pr on route, unchecked.
func serveProbe(t *testing.T, method, route string, pr probe) answer {
	t.Helper()
	return record(t, probeServer(pr), probeRequest(method, route, pr))
}

// exchangeProbe answers pr on route, the request and the answer
// validated against the description.
func (s spec) exchangeProbe(t *testing.T, method, route string, pr probe) answer {
	t.Helper()
	return s.exchange(t, probeServer(pr), probeRequest(method, route, pr))
}

// TestOpenAPIStatuses provokes every documented status of every dashboard
// and operational route, validates the request and the answer (body and
// headers) against the description, and checks that every status the
// routes answer is documented.
func TestOpenAPIStatuses(t *testing.T) {
	s := loadSpec(t)
	all := probes()
	documented := map[string]bool{}
	for _, op := range s.operations(t, "dashboard", "operations") {
		for status := range op.Op.Responses.Map() {
			key := op.Method + " " + op.Route + " " + status
			documented[key] = true
			t.Run(key, func(t *testing.T) {
				pr, ok := all[key]
				if !ok {
					t.Fatalf("documented, but no probe provokes it")
				}
				if a := s.exchangeProbe(t, op.Method, op.Route, pr); strconv.Itoa(a.status) != status {
					t.Fatalf("status %d, want %s; body %s", a.status, status, a.body)
				}
			})
		}
	}
	for key := range all {
		if !documented[key] {
			t.Errorf("%s is answered but not documented", key)
		}
	}
}

// TestOpenAPIParameters checks that each route accepts exactly the
// documented parameters, each with its documented example (and its
// companions), in a request and with an answer the description validates.
func TestOpenAPIParameters(t *testing.T) {
	s := loadSpec(t)
	for _, op := range s.operations(t, "dashboard") {
		t.Run(op.Method+" "+op.Route, func(t *testing.T) {
			var query []string
			for _, ref := range op.Op.Parameters {
				p := ref.Value
				pr := probe{}
				switch p.In {
				case openapi3.ParameterInQuery:
					query = append(query, p.Name)
					pr.query = p.Name + "=" + url.QueryEscape(openapitest.ExampleString(t, p))
					if c, ok := companions[op.Route+" "+p.Name]; ok {
						pr.query += "&" + c
					}
				case openapi3.ParameterInHeader:
					pr.header = http.Header{p.Name: {openapitest.ExampleString(t, p)}}
				default:
					t.Fatalf("parameter %s in %s: not served", p.Name, p.In)
				}
				if a := s.exchangeProbe(t, op.Method, op.Route, pr); a.status != 200 {
					t.Errorf("documented %s parameter %s=%s: status %d %s", p.In, p.Name, openapitest.ExampleString(t, p), a.status, a.body)
				}
			}
			slices.Sort(query)
			served := slices.Sorted(slices.Values(routeParams[op.Route]))
			if !slices.Equal(query, served) {
				t.Errorf("documented query parameters %v, served %v", query, served)
			}
		})
	}
}

// TestOpenAPIRoutes checks that the routes the transport registers are
// exactly the documented ones, and that other methods on them get 405.
func TestOpenAPIRoutes(t *testing.T) {
	s := loadSpec(t)
	var documented []string
	methods := map[string][]string{}
	for _, op := range s.operations(t, "dashboard") {
		documented = append(documented, op.Method+" "+op.Route)
		methods[op.Route] = append(methods[op.Route], op.Method)
	}
	slices.Sort(documented)
	if served := servedPatterns(); !slices.Equal(served, documented) {
		t.Fatalf("served routes %v, documented %v", served, documented)
	}
	for route, allowed := range methods {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			a := serveProbe(t, m, route, probe{})
			ok := slices.Contains(allowed, m) || (m == "HEAD" && slices.Contains(allowed, "GET"))
			switch {
			case ok && (a.status == 404 || a.status == 405):
				t.Errorf("%s %s is documented but answers %d", m, route, a.status)
			case !ok && a.status != 405:
				t.Errorf("%s %s is not documented but answers %d", m, route, a.status)
			case !ok && !strings.Contains(a.header.Get("Allow"), strings.Join(allowed, ", ")):
				t.Errorf("%s %s: Allow %q, want the documented %v", m, route, a.header.Get("Allow"), allowed)
			}
		}
	}
	if a := serveProbe(t, "GET", "/api/v1/undocumented", probe{}); a.status != 404 {
		t.Errorf("an undocumented path answers %d, want 404", a.status)
	}
}

// servedPatterns returns the method patterns ("GET /api/v1/stats") of the
// route table NewHTTPHandler registers, sorted.
func servedPatterns() []string {
	var out []string
	for _, rt := range Routes {
		out = append(out, rt.Method+" "+rt.Path)
	}
	slices.Sort(out)
	return out
}
