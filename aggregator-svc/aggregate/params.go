package aggregate

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"xii/libs/params"
	"xii/libs/xiiapi"
)

// Request-timeout bounds: the deadline a caller may ask for, and the one it
// gets when it asks for none.
const (
	DefaultTimeout = 2 * time.Second
	MaxTimeout     = 30 * time.Second
	// MinTimeout leaves a read of the aggregate a chance: below it an
	// answer could only ever be a timeout.
	MinTimeout     = 10 * time.Millisecond
	maxQueryBytes  = 4096
	maxCursorBytes = 512
)

// Param sets: which query parameters each route accepts.
var (
	QueryParams = append([]string{"limit", "cursor", "timeout"}, xiiapi.FilterParams...)
	StatsParams = append([]string{"group_by", "timeout"}, xiiapi.FilterParams...)
	SyncParams  = []string{"timeout"}
)

// ParseValues parses a raw query string strictly: known parameters only,
// each at most once, bounded in size. Errors wrap ErrInvalid.
func ParseValues(raw string, known []string) (url.Values, error) {
	v, err := params.Parse(raw, known, maxQueryBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return v, nil
}

// ParseFilter reads and validates the filter parameters.
func ParseFilter(v url.Values) (Filter, error) {
	f, err := xiiapi.ParseFilter(v)
	if err != nil {
		return Filter{}, err
	}
	return f, f.Validate()
}

// ParseQuery reads a Query from parameters checked by ParseValues.
func ParseQuery(v url.Values) (Query, error) {
	f, err := ParseFilter(v)
	if err != nil {
		return Query{}, err
	}
	q := Query{Filter: f}
	if q.Limit, err = params.Int(v, "limit", 1, MaxLimit); err != nil {
		return Query{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if s := v.Get("cursor"); s != "" {
		if q.After, err = ParseKey(s); err != nil {
			return Query{}, err
		}
	}
	return q, nil
}

// ParseStatsQuery reads a StatsQuery; group_by is comma-separated.
func ParseStatsQuery(v url.Values) (StatsQuery, error) {
	f, err := ParseFilter(v)
	if err != nil {
		return StatsQuery{}, err
	}
	q := StatsQuery{Filter: f}
	if s := v.Get("group_by"); s != "" {
		q.GroupBy = strings.Split(s, ",")
	}
	return q, q.Validate()
}

// ParseTimeout reads the requested deadline from the timeout parameter or,
// failing that, the Request-Timeout header; both are Go durations ("1500ms").
func ParseTimeout(v url.Values, header string) (time.Duration, error) {
	s := v.Get("timeout")
	if s == "" {
		s = header
	}
	if s == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < MinTimeout || d > MaxTimeout {
		return 0, invalidf("timeout: must be a duration such as 1500ms, from %v to %v", MinTimeout, MaxTimeout)
	}
	return d, nil
}

// keyJSON is a Key's opaque cursor form.
type keyJSON struct {
	T time.Time `json:"t"`
	P string    `json:"p"`
	I string    `json:"i"`
}

// String encodes k as an opaque cursor.
func (k Key) String() string {
	b, _ := json.Marshal(keyJSON{T: k.CreatedAt, P: k.Provider, I: k.ProviderID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseKey decodes a cursor made by Key.String. Errors wrap ErrInvalid.
func ParseKey(s string) (*Key, error) {
	if len(s) > maxCursorBytes {
		return nil, invalidf("cursor: malformed")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalidf("cursor: malformed")
	}
	var k keyJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil || k.T.IsZero() || k.P == "" || k.I == "" {
		return nil, invalidf("cursor: malformed")
	}
	return &Key{CreatedAt: k.T, Provider: k.P, ProviderID: k.I}, nil
}
