// Package params reads URL query parameters strictly, the same way in every
// xii API: known parameters only, each at most once, the whole query
// bounded. Its errors name the parameter; callers wrap them in their own
// invalid-request error.
package params

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Parse parses raw, refusing a query longer than maxBytes, a malformed one,
// a parameter not in known, and a parameter given more than once. When
// several parameters are wrong, the first in name order is reported.
func Parse(raw string, known []string, maxBytes int) (url.Values, error) {
	if len(raw) > maxBytes {
		return nil, fmt.Errorf("query: longer than %d bytes", maxBytes)
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("query: malformed")
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("%s: unknown parameter (known: %s)", name, strings.Join(known, ", "))
		}
		if len(values[name]) > 1 {
			return nil, fmt.Errorf("%s: given more than once", name)
		}
	}
	return values, nil
}

// Int reads parameter name as an integer in [lo, hi]; absent, it is 0.
func Int(v url.Values, name string, lo, hi int) (int, error) {
	if !v.Has(name) {
		return 0, nil
	}
	n, err := strconv.Atoi(v.Get(name))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: must be an integer between %d and %d", name, lo, hi)
	}
	return n, nil
}

// Time reads parameter name as an RFC 3339 time, in UTC: an offset is only
// how the instant was written, and the stores refuse some (PostgreSQL takes
// none beyond ±15:59). Absent, it is zero.
func Time(v url.Values, name string) (time.Time, error) {
	if !v.Has(name) {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v.Get(name))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: must be an RFC 3339 time such as 2026-01-02T15:04:05Z", name)
	}
	return t.UTC(), nil
}
