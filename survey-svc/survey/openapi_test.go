package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"xii/libs/httpserver"
)

// This file checks survey-svc's part of the repository's OpenAPI
// description (the operations tagged survey and operations) against the
// real handler: every documented route, parameter and status exists, and
// every route and status served is documented.

const apiDocPath = "../../docs/openapi.yaml"

type apiDoc map[string]any

func loadAPIDoc(t *testing.T) apiDoc {
	t.Helper()
	raw, err := os.ReadFile(apiDocPath)
	if err != nil {
		t.Fatalf("read the OpenAPI description: %v", err)
	}
	var d apiDoc
	if err := yaml.Unmarshal(raw, &d); err != nil {
		t.Fatalf("parse %s: %v", apiDocPath, err)
	}
	return d
}

func apiMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func apiList(v any) []any         { s, _ := v.([]any); return s }

// resolve follows local $refs to the object referred to.
func (d apiDoc) resolve(t *testing.T, node any) map[string]any {
	t.Helper()
	m := apiMap(node)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = map[string]any(d)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = apiMap(cur)[part]
		}
		if cur == nil {
			t.Fatalf("dangling $ref %s", ref)
		}
		m = apiMap(cur)
	}
	return m
}

// apiOp is one documented method of one route; the route is the server's
// base path followed by the path key.
type apiOp struct {
	method, route string
	spec          map[string]any
}

func (d apiDoc) operations(t *testing.T, tags ...string) []apiOp {
	t.Helper()
	var ops []apiOp
	for key, item := range apiMap(d["paths"]) {
		servers := apiList(apiMap(item)["servers"])
		if servers == nil {
			servers = apiList(d["servers"])
		}
		u, err := url.Parse(apiMap(servers[0])["url"].(string))
		if err != nil {
			t.Fatalf("path %s: server: %v", key, err)
		}
		for method, spec := range apiMap(item) {
			opTags := apiList(apiMap(spec)["tags"])
			if slices.ContainsFunc(opTags, func(tag any) bool { return slices.Contains(tags, tag.(string)) }) {
				ops = append(ops, apiOp{strings.ToUpper(method), strings.TrimSuffix(u.Path, "/") + key, apiMap(spec)})
			}
		}
	}
	return ops
}

// check reports how v (decoded JSON) departs from schema.
func (d apiDoc) check(t *testing.T, schema, v any, where string) error {
	t.Helper()
	s := d.resolve(t, schema)
	switch {
	case s == nil:
		return nil
	case v == nil:
		return fmt.Errorf("%s: null", where)
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", where, v)
		}
		for _, r := range apiList(s["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: required property %s missing", where, r)
			}
		}
		for name, val := range obj {
			sub, known := apiMap(s["properties"])[name]
			if !known {
				if extra, ok := s["additionalProperties"]; !ok || extra == false {
					return fmt.Errorf("%s: undocumented property %s", where, name)
				}
				sub = s["additionalProperties"]
			}
			if err := d.check(t, sub, val, where+"."+name); err != nil {
				return err
			}
		}
	case "array":
		for i, item := range apiList(v) {
			if err := d.check(t, s["items"], item, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %T, want a string", where, v)
		}
		if enum := apiList(s["enum"]); enum != nil && !slices.Contains(enum, any(str)) {
			return fmt.Errorf("%s: %q not in %v", where, str, enum)
		}
		if _, err := time.Parse(time.RFC3339Nano, str); s["format"] == "date-time" && err != nil {
			return fmt.Errorf("%s: %q is not a date-time", where, str)
		}
	case "integer":
		if n, ok := v.(float64); !ok || n != math.Trunc(n) {
			return fmt.Errorf("%s: %v, want an integer", where, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %T, want a boolean", where, v)
		}
	}
	return nil
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
	notReady                 bool
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
			400: {body: `{"text":"t"}`},
			413: {body: `{"text":"` + strings.Repeat("a", 2048) + `","device":"d","location":"l"}`},
			415: {body: example, contentType: "text/plain"},
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

// serveAPIProbe answers pr with the whole server, operational routes
// included, as cmd wires it.
func serveAPIProbe(t *testing.T, method, route string, pr apiProbe) (*http.Response, []byte) {
	t.Helper()
	mem := newMemRepo()
	if pr.notReady {
		mem.pingErr = errors.New("database down")
	}
	repo := failingRepo{memRepo: mem, err: pr.repoErr}
	srv := httpserver.New(httpserver.Routes{
		API: NewHTTPHandler(MakeEndpoints(NewService(repo)), HTTPOptions{MaxBodyBytes: 1024, ExportToken: pr.token}),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			io.WriteString(w, "# no metrics in this test\n")
		}),
		Ready: repo.Ping,
	}, slog.New(slog.DiscardHandler))
	target := route
	if pr.query != "" {
		target += "?" + pr.query
	}
	req := httptest.NewRequest(method, target, strings.NewReader(pr.body))
	if pr.contentType != "" {
		req.Header.Set("Content-Type", pr.contentType)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), body
}

func TestOpenAPIStatuses(t *testing.T) {
	d := loadAPIDoc(t)
	example, err := json.Marshal(d.resolve(t, map[string]any{"$ref": "#/components/requestBodies/NewResponse"})["content"].(map[string]any)["application/json"].(map[string]any)["example"])
	if err != nil {
		t.Fatal(err)
	}
	all := apiProbes(string(example))
	documented := map[string]bool{}
	for _, op := range d.operations(t, "survey", "operations") {
		for status, spec := range apiMap(op.spec["responses"]) {
			key := op.method + " " + op.route + " " + status
			documented[key] = true
			t.Run(key, func(t *testing.T) {
				pr, ok := all[key]
				if !ok {
					t.Fatal("documented, but no probe provokes it")
				}
				resp, body := serveAPIProbe(t, op.method, op.route, pr)
				if strconv.Itoa(resp.StatusCode) != status {
					t.Fatalf("status %d, want %s; body %s", resp.StatusCode, status, body)
				}
				response := d.resolve(t, spec)
				mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
				media, ok := apiMap(response["content"])[mt]
				if !ok {
					t.Fatalf("content type %q is not documented", mt)
				}
				if mt == "application/json" {
					var v any
					if err := json.Unmarshal(body, &v); err != nil {
						t.Fatalf("body %s: %v", body, err)
					}
					if err := d.check(t, apiMap(media)["schema"], v, "body"); err != nil {
						t.Fatal(err)
					}
				}
				for name := range apiMap(response["headers"]) {
					if resp.Header.Get(name) == "" {
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

func TestOpenAPIParametersAndBody(t *testing.T) {
	d := loadAPIDoc(t)
	for _, op := range d.operations(t, "survey") {
		var names []string
		for _, ref := range apiList(op.spec["parameters"]) {
			p := d.resolve(t, ref)
			name := p["name"].(string)
			names = append(names, name)
			if p["in"] != "query" {
				t.Errorf("%s %s: parameter %s in %s is not served", op.method, op.route, name, p["in"])
				continue
			}
			example := fmt.Sprint(p["example"])
			if resp, body := serveAPIProbe(t, op.method, op.route, apiProbe{query: name + "=" + url.QueryEscape(example)}); resp.StatusCode != 200 {
				t.Errorf("%s %s: documented %s=%s: status %d %s", op.method, op.route, name, example, resp.StatusCode, body)
			}
		}
		if op.method == "GET" {
			slices.Sort(names)
			if served := slices.Sorted(slices.Values(exportParams)); !slices.Equal(names, served) {
				t.Errorf("%s %s: documented parameters %v, served %v", op.method, op.route, names, served)
			}
		}
	}
	// The documented request body has exactly the fields a client may send.
	schema := d.resolve(t, map[string]any{"$ref": "#/components/schemas/NewResponse"})
	var fields []string
	for i := range reflect.TypeFor[NewResponse]().NumField() {
		tag, _, _ := strings.Cut(reflect.TypeFor[NewResponse]().Field(i).Tag.Get("json"), ",")
		fields = append(fields, tag)
	}
	slices.Sort(fields)
	var props []string
	for name := range apiMap(schema["properties"]) {
		props = append(props, name)
	}
	slices.Sort(props)
	if !slices.Equal(fields, props) {
		t.Errorf("documented request fields %v, decoded %v", props, fields)
	}
}

func TestOpenAPIRoutes(t *testing.T) {
	d := loadAPIDoc(t)
	var documented []string
	methods := map[string][]string{}
	for _, op := range d.operations(t, "survey") {
		documented = append(documented, op.method+" "+op.route)
		methods[op.route] = append(methods[op.route], op.method)
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
			resp, _ := serveAPIProbe(t, m, route, apiProbe{})
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
