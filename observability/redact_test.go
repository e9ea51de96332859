package observability

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:s3cret@db:5432/x?sslmode=disable": "postgres://u:xxxxx@db:5432/x?sslmode=disable",
		"postgres://db/x?password=s3cret&sslmode=off":   "postgres://db/x?password=xxxxx&sslmode=off",
		"postgres://postgres@127.0.0.1/x":               "postgres://postgres@127.0.0.1/x",
		"postgres://u:s3cret@[::1":                      "(unparseable URL)",
	} {
		if got := RedactURL(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
