package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"xii/libs/httpserver"
)

// probe is a request that provokes one documented status.
type probe struct {
	query    string
	header   http.Header
	token    string // the token the service runs with; the probe sends none
	aggErr   error
	notReady bool
}

// routeParams are the query parameters each API route accepts.
var routeParams = map[string][]string{
	"/api/v1/responses": responsesParams,
	"/api/v1/stats":     statsParams,
	"/api/v1/reporter":  reporterParams,
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

// serveProbe answers pr on route with the whole server, operational
// routes included, as cmd wires it.
func serveProbe(t *testing.T, method, route string, pr probe) answer {
	t.Helper()
	agg := &stubAggregator{page: samplePage(), stats: Stats{Groups: []Group{{Key: map[string]string{"device": "iOS"}, Count: 2}}, Total: 2, Sync: samplePage().Sync}, err: pr.aggErr}
	srv := httpserver.New(httpserver.Routes{
		API: newHandler(agg, HTTPOptions{Token: pr.token}),
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
	}, slog.New(slog.DiscardHandler))
	target := route
	if pr.query != "" {
		target += "?" + pr.query
	}
	return serve(t, srv.Handler(), method, target, pr.header)
}

// TestOpenAPIStatuses provokes every documented status of every dashboard
// and operational route, checks the answer's body and headers against the
// description, and checks that every status the routes answer is
// documented.
func TestOpenAPIStatuses(t *testing.T) {
	d := loadDoc(t)
	all := probes()
	documented := map[string]bool{}
	for _, op := range d.operations(t, "dashboard", "operations") {
		for status, resp := range asMap(op.spec["responses"]) {
			key := op.method + " " + op.route + " " + status
			documented[key] = true
			t.Run(key, func(t *testing.T) {
				pr, ok := all[key]
				if !ok {
					t.Fatalf("documented, but no probe provokes it")
				}
				a := serveProbe(t, op.method, op.route, pr)
				if strconv.Itoa(a.status) != status {
					t.Fatalf("status %d, want %s; body %s", a.status, status, a.body)
				}
				response := d.resolve(t, resp)
				if err := d.checkBody(t, response, a.header.Get("Content-Type"), a.body); err != nil {
					t.Fatal(err)
				}
				for name := range asMap(response["headers"]) {
					if a.header.Get(name) == "" {
						t.Errorf("documented header %s missing", name)
					}
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
// documented parameters, each with its documented example.
func TestOpenAPIParameters(t *testing.T) {
	d := loadDoc(t)
	for _, op := range d.operations(t, "dashboard") {
		t.Run(op.method+" "+op.route, func(t *testing.T) {
			var query []string
			for _, p := range d.parameters(t, op) {
				name, in := p["name"].(string), p["in"].(string)
				pr := probe{}
				switch in {
				case "query":
					query = append(query, name)
					pr.query = name + "=" + url.QueryEscape(exampleString(t, p))
				case "header":
					pr.header = http.Header{name: {exampleString(t, p)}}
				default:
					t.Fatalf("parameter %s in %s: not served", name, in)
				}
				if a := serveProbe(t, op.method, op.route, pr); a.status != 200 {
					t.Errorf("documented %s parameter %s=%s: status %d %s", in, name, exampleString(t, p), a.status, a.body)
				}
			}
			slices.Sort(query)
			served := slices.Sorted(slices.Values(routeParams[op.route]))
			if !slices.Equal(query, served) {
				t.Errorf("documented query parameters %v, served %v", query, served)
			}
		})
	}
}

// TestOpenAPIRoutes checks that the routes the transport registers are
// exactly the documented ones, and that other methods on them get 405.
func TestOpenAPIRoutes(t *testing.T) {
	d := loadDoc(t)
	var documented []string
	methods := map[string][]string{}
	for _, op := range d.operations(t, "dashboard") {
		documented = append(documented, op.method+" "+op.route)
		methods[op.route] = append(methods[op.route], op.method)
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
