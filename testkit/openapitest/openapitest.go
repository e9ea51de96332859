// Package openapitest loads the repository's OpenAPI description for the
// contract tests of the services that serve it: each checks its own
// operations against its real handler.
package openapitest

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Load loads and validates the description at path, stricter than OpenAPI
// reads it: an object schema that does not say otherwise admits no
// undocumented property, so an answer cannot carry a field the description
// lacks.
func Load(tb testing.TB, path string) *openapi3.T {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		tb.Fatalf("load %s: %v", path, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		tb.Fatalf("%s: openapi %q, want 3.x", path, doc.OpenAPI)
	}
	if err := doc.Validate(tb.Context()); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	doc.WalkSchemas(func(_ string, s *openapi3.SchemaRef) error {
		if v := s.Value; v.Type.Is(openapi3.TypeObject) && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
			v.AdditionalProperties.Has = openapi3.Ptr(false)
		}
		return nil
	})
	return doc
}

// Operation is one documented method of one route; Route is the server's
// base path, if any, followed by the path key.
type Operation struct {
	Method, Route string
	Op            *openapi3.Operation
}

// Operations returns doc's operations tagged with any of tags, by method
// and route.
func Operations(tb testing.TB, doc *openapi3.T, tags ...string) []Operation {
	tb.Helper()
	var ops []Operation
	for key, item := range doc.Paths.Map() {
		servers := item.Servers
		if len(servers) == 0 {
			servers = doc.Servers
		}
		base, err := servers.BasePath()
		if err != nil {
			tb.Fatalf("path %s: server: %v", key, err)
		}
		for method, op := range item.Operations() {
			if slices.ContainsFunc(op.Tags, func(tag string) bool { return slices.Contains(tags, tag) }) {
				ops = append(ops, Operation{Method: method, Route: strings.TrimSuffix(base, "/") + key, Op: op})
			}
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int { return strings.Compare(a.Method+a.Route, b.Method+b.Route) })
	return ops
}

// ExampleString is a parameter's example as it goes into a URL or header.
func ExampleString(tb testing.TB, p *openapi3.Parameter) string {
	tb.Helper()
	switch v := p.Example.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	tb.Fatalf("parameter %s has no usable example", p.Name)
	return ""
}
