package dashboard

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// openAPIPath is the repository's description of the public APIs.
const openAPIPath = "../../docs/openapi.yaml"

// apiHost is dashboard-svc's documented server.
const apiHost = "http://localhost:1100"

// spec is the loaded description and a router over it.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadSpec loads the description, stricter than OpenAPI reads it: an
// object schema that does not say otherwise admits no undocumented
// property, so an answer cannot carry a field the description lacks.
// The legacy router matches the document's own server, dashboard-svc's,
// on which every operation checked here is served.
func loadSpec(t *testing.T) spec {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(openAPIPath)
	if err != nil {
		t.Fatalf("load %s: %v", openAPIPath, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("%s: openapi %q, want 3.x", openAPIPath, doc.OpenAPI)
	}
	doc.WalkSchemas(func(_ string, s *openapi3.SchemaRef) error {
		if v := s.Value; v.Type.Is(openapi3.TypeObject) && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
			v.AdditionalProperties.Has = openapi3.Ptr(false)
		}
		return nil
	})
	router, err := legacy.NewRouter(doc) // validates doc
	if err != nil {
		t.Fatalf("%s: %v", openAPIPath, err)
	}
	return spec{doc, router}
}

// operation is one documented method of one route.
type operation struct {
	method, route string
	op            *openapi3.Operation
}

// operations returns the operations tagged with any of tags; a route is
// the server's base path, if any, followed by the path key.
func (s spec) operations(t *testing.T, tags ...string) []operation {
	t.Helper()
	var ops []operation
	for key, item := range s.doc.Paths.Map() {
		servers := item.Servers
		if len(servers) == 0 {
			servers = s.doc.Servers
		}
		base, err := servers.BasePath()
		if err != nil {
			t.Fatalf("path %s: server: %v", key, err)
		}
		for method, op := range item.Operations() {
			if slices.ContainsFunc(op.Tags, func(tag string) bool { return slices.Contains(tags, tag) }) {
				ops = append(ops, operation{method: method, route: strings.TrimSuffix(base, "/") + key, op: op})
			}
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.method+a.route, b.method+b.route) })
	return ops
}

// exampleString is a parameter's example as it goes into a URL or header.
func exampleString(t *testing.T, p *openapi3.Parameter) string {
	t.Helper()
	switch v := p.Example.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	t.Fatalf("parameter %s has no usable example", p.Name)
	return ""
}

// exchange validates req against the description, sends it to h, and
// validates and records the answer.
func (s spec) exchange(t *testing.T, h http.Handler, req *http.Request) answer {
	t.Helper()
	route, pathParams, err := s.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true}}
	if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
		t.Errorf("the request departs from the description: %v", err)
	}
	a := record(t, h, req)
	if err := openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: a.status, Header: a.header,
		Body: io.NopCloser(bytes.NewReader(a.body)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}); err != nil {
		t.Errorf("the answer departs from the description: %v", err)
	}
	// OpenAPI headers are optional unless marked required; every
	// documented one is sent.
	if documented := route.Operation.Responses.Status(a.status); documented != nil {
		for name := range documented.Value.Headers {
			if a.header.Get(name) == "" {
				t.Errorf("documented header %s missing", name)
			}
		}
	}
	return a
}
