package survey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"xii/testkit/openapitest"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"xii/libs/httpserver"
)

// This file checks survey-svc's part of the repository's OpenAPI
// description (the operations tagged survey and operations) against the
// real handler: every request the tests send and every answer they get is
// validated with openapi3filter; every documented route, parameter and
// status exists, and every route and status served is documented.

const apiDocPath = "../../docs/openapi.yaml"

// apiHost is the documented server of survey-svc instance blue; the
// router tells survey-svc's operations from dashboard-svc's by it.
const apiHost = "http://localhost:1101"

// apiSpec is the loaded description and a router over it.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadAPISpec loads the description (strictly: openapitest.Load).
// gorillamux, unlike the legacy router, honours the path-level servers
// that put survey-svc's paths under /api/v1.
func loadAPISpec(t *testing.T) apiSpec {
	t.Helper()
	doc := openapitest.Load(t, apiDocPath)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return apiSpec{doc, router}
}

func (s apiSpec) operations(t *testing.T, tags ...string) []openapitest.Operation {
	t.Helper()
	return openapitest.Operations(t, s.doc, tags...)
}

// failingRepo is a memRepo whose writes and reads fail with err, when set.
type failingRepo struct {
	*memRepo
	err error
}

func (r failingRepo) Create(ctx context.Context, n NewResponse) (Response, error) {
	if r.err != nil {
		return Response{}, r.err
	}
	return r.memRepo.Create(ctx, n)
}

func (r failingRepo) Export(ctx context.Context, q ExportQuery) (Page, error) {
	if r.err != nil {
		return Page{}, r.err
	}
	return r.memRepo.Export(ctx, q)
}

// apiProbe is a request that provokes one documented status.
type apiProbe struct {
	query, contentType, body string
	token                    string // the export token the service runs with; the probe sends none
	repoErr                  error
	// bodyErr, when set, is what reading the body fails with after body:
	// os.ErrDeadlineExceeded is how a server's read deadline shows.
	bodyErr  error
	notReady bool
	// limited: the client has used up its rate limit before the probe.
	limited bool
	// offSpec: the description itself rejects the request, so
	// ValidateRequest must fail. (An unknown query parameter is a 400 by
	// the description's prose only: openapi3filter lets it pass.)
	offSpec bool
}

// apiProbes returns a way to provoke every status survey-svc's routes
// answer, keyed "METHOD route status". example is the documented body.
func apiProbes(example string) map[string]apiProbe {
	p := map[string]apiProbe{
		"GET /healthz 200":          {},
		"GET /readyz 200":           {},
		"GET /readyz 503":           {notReady: true},
		"GET /metrics 200":          {},
		"GET /api/v1/responses 200": {},
		"GET /api/v1/responses 400": {query: "colour=red"},
		"GET /api/v1/responses 401": {token: "s3cret"},
		"GET /api/v1/responses 500": {repoErr: errors.New("database down")},
		"GET /api/v1/responses 503": {repoErr: context.DeadlineExceeded},
	}
	for _, route := range []string{"/api/v1/responses", "/api/v1/reporter"} {
		for status, pr := range map[int]apiProbe{
			201: {body: example},
			400: {body: `{"text":"t"}`, offSpec: true},
			408: {body: `{"text":`, bodyErr: os.ErrDeadlineExceeded, offSpec: true}, // a body never read whole validates neither
			413: {body: `{"text":"` + strings.Repeat("a", 2048) + `","device":"d","location":"l"}`},
			415: {body: example, contentType: "text/plain", offSpec: true},
			429: {body: example, limited: true},
			500: {body: example, repoErr: errors.New("database down")},
			503: {body: example, repoErr: context.DeadlineExceeded},
		} {
			if pr.contentType == "" {
				pr.contentType = "application/json"
			}
			p["POST "+route+" "+strconv.Itoa(status)] = pr
		}
	}
	return p
}

// apiServer is the whole server pr runs against, operational routes
// included, as cmd wires it.
func apiServer(pr apiProbe) http.Handler {
	mem := newMemRepo()
	if pr.notReady {
		mem.pingErr = errors.New("database down")
	}
	repo := failingRepo{memRepo: mem, err: pr.repoErr}
	opts := HTTPOptions{MaxBodyBytes: 1024, ExportToken: pr.token}
	if pr.limited {
		opts.SubmitLimit = httpserver.RateLimit{PerSecond: 1e-6, Burst: 1}
	}
	api := NewHTTPHandler(MakeEndpoints(NewService(repo)), opts)
	if pr.limited { // the one submission of the burst, from the probe's address
		warm := httptest.NewRequest("POST", apiHost+"/api/v1/responses", strings.NewReader(`{"text":"t","device":"d","location":"l"}`))
		warm.Header.Set("Content-Type", "application/json")
		api.ServeHTTP(httptest.NewRecorder(), warm)
	}
	return httpserver.New(httpserver.Routes{
		API: api,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			io.WriteString(w, "# no metrics in this test\n")
		}),
		Ready: repo.Ping,
	}, slog.New(slog.DiscardHandler)).Handler()
}

// serveAPIProbe sends pr's request to its server.
func serveAPIProbe(t *testing.T, req *http.Request, pr apiProbe) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	apiServer(pr).ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Result(), body
}

// apiRequest is pr's request, addressed to instance blue.
func apiRequest(method, route string, pr apiProbe) *http.Request {
	target := apiHost + route
	if pr.query != "" {
		target += "?" + pr.query
	}
	var body io.Reader = strings.NewReader(pr.body)
	if pr.bodyErr != nil {
		body = io.MultiReader(body, iotest.ErrReader(pr.bodyErr))
	}
	req := httptest.NewRequest(method, target, body)
	if pr.contentType != "" {
		req.Header.Set("Content-Type", pr.contentType)
	}
	return req
}

// exchange sends pr's request to its server, validating the request and
// the answer against the description.
func (s apiSpec) exchange(t *testing.T, method, route string, pr apiProbe) (*http.Response, []byte) {
	t.Helper()
	req := apiRequest(method, route, pr)
	found, pathParams, err := s.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: found,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true}}
	switch err := openapi3filter.ValidateRequest(t.Context(), in); {
	case err != nil && !pr.offSpec:
		t.Errorf("the request departs from the description: %v", err)
	case err == nil && pr.offSpec:
		t.Errorf("the description accepts %s %s, which the probe means to be off it", method, req.URL)
	}
	resp, body := serveAPIProbe(t, req, pr)
	if err := openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}); err != nil {
		t.Errorf("the answer departs from the description: %v", err)
	}
	// OpenAPI headers are optional unless marked required; every
	// documented one is sent.
	if documented := found.Operation.Responses.Status(resp.StatusCode); documented != nil {
		for name := range documented.Value.Headers {
			if resp.Header.Get(name) == "" {
				t.Errorf("documented header %s missing", name)
			}
		}
	}
	return resp, body
}

func TestOpenAPIStatuses(t *testing.T) {
	s := loadAPISpec(t)
	example, err := json.Marshal(s.doc.Components.RequestBodies["NewResponse"].Value.Content.Get("application/json").Example)
	if err != nil {
		t.Fatal(err)
	}
	all := apiProbes(string(example))
	documented := map[string]bool{}
	for _, op := range s.operations(t, "survey", "operations") {
		for status := range op.Op.Responses.Map() {
			key := op.Method + " " + op.Route + " " + status
			documented[key] = true
			t.Run(key, func(t *testing.T) {
				pr, ok := all[key]
				if !ok {
					t.Fatal("documented, but no probe provokes it")
				}
				if resp, body := s.exchange(t, op.Method, op.Route, pr); strconv.Itoa(resp.StatusCode) != status {
					t.Fatalf("status %d, want %s; body %s", resp.StatusCode, status, body)
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

func TestOpenAPIParametersAndBody(t *testing.T) {
	s := loadAPISpec(t)
	for _, op := range s.operations(t, "survey") {
		var names []string
		for _, ref := range op.Op.Parameters {
			p := ref.Value
			names = append(names, p.Name)
			if p.In != openapi3.ParameterInQuery {
				t.Errorf("%s %s: parameter %s in %s is not served", op.Method, op.Route, p.Name, p.In)
				continue
			}
			example := fmt.Sprint(p.Example)
			if resp, body := s.exchange(t, op.Method, op.Route, apiProbe{query: p.Name + "=" + url.QueryEscape(example)}); resp.StatusCode != 200 {
				t.Errorf("%s %s: documented %s=%s: status %d %s", op.Method, op.Route, p.Name, example, resp.StatusCode, body)
			}
		}
		if op.Method == "GET" {
			slices.Sort(names)
			if served := slices.Sorted(slices.Values(exportParams)); !slices.Equal(names, served) {
				t.Errorf("%s %s: documented parameters %v, served %v", op.Method, op.Route, names, served)
			}
		}
	}
	// The documented request body has exactly the fields a client may send.
	var fields []string
	for i := range reflect.TypeFor[NewResponse]().NumField() {
		tag, _, _ := strings.Cut(reflect.TypeFor[NewResponse]().Field(i).Tag.Get("json"), ",")
		fields = append(fields, tag)
	}
	slices.Sort(fields)
	props := slices.Sorted(maps.Keys(s.doc.Components.Schemas["NewResponse"].Value.Properties))
	if !slices.Equal(fields, props) {
		t.Errorf("documented request fields %v, decoded %v", props, fields)
	}
}

func TestOpenAPIRoutes(t *testing.T) {
	s := loadAPISpec(t)
	var documented []string
	methods := map[string][]string{}
	for _, op := range s.operations(t, "survey") {
		documented = append(documented, op.Method+" "+op.Route)
		methods[op.Route] = append(methods[op.Route], op.Method)
	}
	slices.Sort(documented)
	var served []string
	for _, r := range Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	slices.Sort(served)
	if !slices.Equal(served, documented) {
		t.Fatalf("served routes %v, documented %v", served, documented)
	}
	for route, allowed := range methods {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			resp, _ := serveAPIProbe(t, apiRequest(m, route, apiProbe{}), apiProbe{})
			ok := slices.Contains(allowed, m)
			switch {
			case ok && (resp.StatusCode == 404 || resp.StatusCode == 405):
				t.Errorf("%s %s is documented but answers %d", m, route, resp.StatusCode)
			case !ok && resp.StatusCode != 405:
				t.Errorf("%s %s is not documented but answers %d", m, route, resp.StatusCode)
			case !ok && !sameMethods(resp.Header.Get("Allow"), allowed):
				t.Errorf("%s %s: Allow %q, want the documented %v", m, route, resp.Header.Get("Allow"), allowed)
			}
		}
	}
}

func sameMethods(allow string, documented []string) bool {
	got := strings.Split(strings.ReplaceAll(allow, " ", ""), ",")
	slices.Sort(got)
	return slices.Equal(got, slices.Sorted(slices.Values(documented)))
}
