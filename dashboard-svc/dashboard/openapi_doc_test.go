package dashboard

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// openAPIPath is the repository's description of the public APIs.
const openAPIPath = "../../docs/openapi.yaml"

// doc is a loaded OpenAPI document, as generic JSON values.
type doc map[string]any

func loadDoc(t *testing.T) doc {
	t.Helper()
	raw, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatalf("read the OpenAPI description: %v", err)
	}
	var d doc
	if err := yaml.Unmarshal(raw, &d); err != nil {
		t.Fatalf("parse %s: %v", openAPIPath, err)
	}
	if v, _ := d["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("%s: openapi %q, want 3.x", openAPIPath, v)
	}
	return d
}

// resolve follows a local $ref ("#/components/...") until it reaches the
// object referred to.
func (d doc) resolve(t *testing.T, node any) map[string]any {
	t.Helper()
	m, _ := node.(map[string]any)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = map[string]any(d)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = asMap(cur)[part]
		}
		if cur == nil {
			t.Fatalf("dangling $ref %s", ref)
		}
		m = asMap(cur)
	}
	return m
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

// operation is one documented method of one route.
type operation struct {
	method, route string
	spec          map[string]any
}

// operations returns the operations tagged with any of tags; a route is
// the server's base path, if any, followed by the path key.
func (d doc) operations(t *testing.T, tags ...string) []operation {
	t.Helper()
	var ops []operation
	for key, item := range asMap(d["paths"]) {
		servers := asMap(item)["servers"]
		if servers == nil {
			servers = d["servers"]
		}
		base := ""
		if list, _ := servers.([]any); len(list) > 0 {
			u, err := url.Parse(asMap(list[0])["url"].(string))
			if err != nil {
				t.Fatalf("path %s: server: %v", key, err)
			}
			base = strings.TrimSuffix(u.Path, "/")
		}
		for method, spec := range asMap(item) {
			if method == "servers" || method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			specMap := asMap(spec)
			opTags, _ := specMap["tags"].([]any)
			if slices.ContainsFunc(opTags, func(tag any) bool { return slices.Contains(tags, tag.(string)) }) {
				ops = append(ops, operation{method: strings.ToUpper(method), route: base + key, spec: specMap})
			}
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.method+a.route, b.method+b.route) })
	return ops
}

// parameters returns the operation's parameters, resolved.
func (d doc) parameters(t *testing.T, op operation) []map[string]any {
	t.Helper()
	var out []map[string]any
	list, _ := op.spec["parameters"].([]any)
	for _, p := range list {
		out = append(out, d.resolve(t, p))
	}
	return out
}

// exampleString is a parameter's example as it goes into a URL or header.
func exampleString(t *testing.T, p map[string]any) string {
	t.Helper()
	switch v := p["example"].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	t.Fatalf("parameter %v has no usable example", p["name"])
	return ""
}

// checkValue reports how v (decoded JSON) departs from schema.
func (d doc) checkValue(t *testing.T, schema any, v any, where string) error {
	t.Helper()
	s := d.resolve(t, schema)
	if s == nil {
		return nil
	}
	if v == nil {
		if s["nullable"] == true {
			return nil
		}
		return fmt.Errorf("%s: null", where)
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", where, v)
		}
		props := asMap(s["properties"])
		for _, r := range asSlice(s["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: required property %s missing", where, r)
			}
		}
		for name, val := range obj {
			sub, known := props[name]
			if !known {
				extra, ok := s["additionalProperties"]
				if !ok || extra == false {
					return fmt.Errorf("%s: undocumented property %s", where, name)
				}
				sub = extra
			}
			if err := d.checkValue(t, sub, val, where+"."+name); err != nil {
				return err
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an array", where, v)
		}
		for i, item := range arr {
			if err := d.checkValue(t, s["items"], item, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %T, want a string", where, v)
		}
		if enum := asSlice(s["enum"]); enum != nil && !slices.Contains(enum, any(str)) {
			return fmt.Errorf("%s: %q not in %v", where, str, enum)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", where, str)
			}
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

func asSlice(v any) []any { s, _ := v.([]any); return s }

// checkBody checks an answer's body against the documented content of
// its status.
func (d doc) checkBody(t *testing.T, response map[string]any, contentType string, body []byte) error {
	t.Helper()
	content := asMap(response["content"])
	mt, _, _ := strings.Cut(contentType, ";")
	media, ok := content[strings.TrimSpace(mt)]
	if !ok {
		return fmt.Errorf("content type %q is not documented (documented: %v)", contentType, keys(content))
	}
	if mt != "application/json" {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("body %s: %v", body, err)
	}
	return d.checkValue(t, asMap(media)["schema"], v, "body")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
