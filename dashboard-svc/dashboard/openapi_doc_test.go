package dashboard

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"xii/testkit/openapitest"

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

// loadSpec loads the description (strictly: openapitest.Load). The legacy
// router matches the document's own server, dashboard-svc's, on which every
// operation checked here is served.
func loadSpec(t *testing.T) spec {
	t.Helper()
	doc := openapitest.Load(t, openAPIPath)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("%s: %v", openAPIPath, err)
	}
	return spec{doc, router}
}

// operations returns the operations tagged with any of tags.
func (s spec) operations(t *testing.T, tags ...string) []openapitest.Operation {
	t.Helper()
	return openapitest.Operations(t, s.doc, tags...)
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
