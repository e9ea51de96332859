package dashboard

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"xii/libs/xiiapi"
)

// parseResponses is the whole edge check of GET /api/v1/responses without
// the deadline: parameter names, formats, then ranges with the defaults
// the service applies.
func parseResponses(raw string) (Query, error) {
	v, err := xiiapi.ParseValues(raw, responsesParams)
	if err != nil {
		return Query{}, err
	}
	q, err := xiiapi.ParseQuery(v)
	if err != nil {
		return Query{}, err
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	return q, q.Validate()
}

func TestParseResponsesQuery(t *testing.T) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2026, 2, 1, 12, 30, 0, 0, time.FixedZone("", 2*3600))
	tests := []struct {
		name, raw string
		want      Query  // checked when wantErr is empty
		wantErr   string // a part of the error message
	}{
		{"none", "", Query{Limit: 50}, ""},
		{"filters", "device=iOS&location=Germany&survey=nps&provider=blue&limit=7",
			Query{Filter: Filter{Device: "iOS", Location: "Germany", Survey: "nps", Provider: "blue"}, Limit: 7}, ""},
		{"times", "since=2026-01-01T00:00:00Z&until=2026-02-01T12:30:00%2B02:00",
			Query{Filter: Filter{Since: since, Until: until}, Limit: 50}, ""},
		{"cursor", "cursor=eyJ0IjoxfQ", Query{Limit: 50, Cursor: "eyJ0IjoxfQ"}, ""},
		{"max limit", "limit=1000", Query{Limit: 1000}, ""},
		{"timeout is known", "timeout=1s", Query{Limit: 50}, ""},
		{"unknown", "country=DE", Query{}, "country: unknown parameter"},
		{"repeated", "device=iOS&device=web", Query{}, "device: given more than once"},
		{"zero limit", "limit=0", Query{}, "limit: must be an integer between 1 and 1000"},
		{"big limit", "limit=1001", Query{}, "limit: must be"},
		{"word limit", "limit=ten", Query{}, "limit: must be"},
		{"empty limit", "limit=", Query{}, "limit: must be"},
		{"bad since", "since=yesterday", Query{}, "since: must be an RFC 3339 time"},
		{"date only", "until=2026-01-01", Query{}, "until: must be an RFC 3339 time"},
		{"since after until", "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", Query{}, "since: must be before until"},
		{"since equals until", "since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", Query{}, "since: must be before until"},
		{"bad cursor", "cursor=not*base64", Query{}, "cursor: malformed"},
		{"long cursor", "cursor=" + strings.Repeat("A", MaxCursorLen+1), Query{}, "cursor: malformed"},
		{"empty cursor", "cursor=", Query{}, "cursor: empty"},
		{"long filter", "device=" + strings.Repeat("x", MaxFilterLen+1), Query{}, "device: longer than 128"},
		{"bad utf8", "location=%ff", Query{}, "location: not valid UTF-8"},
		{"nul", "survey=a%00b", Query{}, "survey: contains a NUL"},
		{"oversized", "device=" + strings.Repeat("x", xiiapi.MaxQueryLen), Query{}, "query: longer than 4096 bytes"},
		{"malformed", "device=%zz", Query{}, "query: malformed"},
		{"group_by is not a responses parameter", "group_by=device", Query{}, "group_by: unknown parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseResponses(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parse(%q) = %v, want ErrInvalid containing %q", tt.raw, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.raw, err)
			}
			if !sameQuery(got, tt.want) {
				t.Fatalf("parse(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

// sameQuery compares queries with times compared as instants.
func sameQuery(a, b Query) bool {
	return a.Filter.Since.Equal(b.Filter.Since) && a.Filter.Until.Equal(b.Filter.Until) &&
		a.Limit == b.Limit && a.Cursor == b.Cursor &&
		a.Filter.Survey == b.Filter.Survey && a.Filter.Device == b.Filter.Device &&
		a.Filter.Location == b.Filter.Location && a.Filter.Provider == b.Filter.Provider
}

func TestParseStatsQuery(t *testing.T) {
	tests := []struct {
		name, raw   string
		wantGroupBy []string
		wantErr     string
	}{
		{"none", "", nil, ""},
		{"two", "group_by=device,location&device=iOS", []string{"device", "location"}, ""},
		{"all", "group_by=survey,device,location,provider", []string{"survey", "device", "location", "provider"}, ""},
		{"unknown dimension", "group_by=country", nil, `group_by: "country" is not one of`},
		{"twice", "group_by=device,device", nil, `group_by: "device" given twice`},
		{"empty element", "group_by=device,,location", nil, `group_by: "" is not one of`},
		{"empty", "group_by=", nil, "group_by: empty"},
		{"repeated", "group_by=device&group_by=location", nil, "group_by: given more than once"},
		{"limit is not a stats parameter", "limit=5", nil, "limit: unknown parameter"},
		{"time buckets", "group_by=time,provider&interval=1h&top=10", []string{"time", "provider"}, ""},
		{"time without interval", "group_by=time", nil, "interval: required with group_by=time"},
		{"interval without time", "group_by=device&interval=1d", nil, "interval: only with group_by=time"},
		{"unknown interval", "group_by=time&interval=1w", nil, `interval: "1w" is not one of 1m, 1h, 1d`},
		{"top above the group limit", "group_by=device&top=1001", nil, "top: must be an integer between 1 and 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := xiiapi.ParseValues(tt.raw, statsParams)
			var q StatsQuery
			if err == nil {
				if q, err = xiiapi.ParseStatsQuery(v); err == nil {
					err = q.Validate()
				}
			}
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parse(%q) = %v, want ErrInvalid containing %q", tt.raw, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(q.GroupBy, tt.wantGroupBy) {
				t.Fatalf("parse(%q) = %+v, %v; want group_by %v", tt.raw, q, err, tt.wantGroupBy)
			}
		})
	}
}

func TestParseTimeout(t *testing.T) {
	d := Deadlines{Default: 2 * time.Second, Max: 10 * time.Second}
	tests := []struct {
		name, raw, header string
		want              time.Duration
		wantErr           string
	}{
		{"default", "", "", 2 * time.Second, ""},
		{"parameter", "timeout=500ms", "", 500 * time.Millisecond, ""},
		{"header", "", "1.5s", 1500 * time.Millisecond, ""},
		{"parameter wins", "timeout=300ms", "5s", 300 * time.Millisecond, ""},
		{"at max", "timeout=10s", "", 10 * time.Second, ""},
		{"too large", "timeout=11s", "", 0, "timeout: 11s is longer than the maximum 10s"},
		{"header too large", "", "1m", 0, "Request-Timeout: 1m0s is longer than the maximum 10s"},
		{"at min", "timeout=50ms", "", 50 * time.Millisecond, ""},
		{"too short", "timeout=1ms", "", 0, "timeout: 1ms is shorter than the minimum 50ms"},
		{"header too short", "", "49ms", 0, "Request-Timeout: 49ms is shorter than the minimum 50ms"},
		{"zero", "timeout=0s", "", 0, "timeout: must be a positive duration"},
		{"negative", "timeout=-1s", "", 0, "timeout: must be a positive duration"},
		{"no unit", "timeout=500", "", 0, "timeout: must be a positive duration"},
		{"empty parameter", "timeout=", "1s", 0, "timeout: must be a positive duration"},
		{"bad header", "", "soon", 0, "Request-Timeout: must be a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.timeouts().Parse(v, tt.header)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTimeout = %v, %v; want ErrInvalid containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTimeout = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestDeadlinesValidate(t *testing.T) {
	tests := []struct {
		name    string
		d       Deadlines
		wantErr string
	}{
		{"defaults", Deadlines{Default: DefaultTimeout, Max: MaxTimeout}, ""},
		{"equal", Deadlines{Default: time.Second, Max: time.Second}, ""},
		{"upstream max", Deadlines{Default: time.Second, Max: xiiapi.AggregatorMaxTimeout}, ""},
		{"zero default", Deadlines{Max: time.Second}, "shorter than the minimum"},
		{"default too short", Deadlines{Default: 10 * time.Millisecond, Max: time.Second}, "shorter than the minimum 50ms"},
		{"max below default", Deadlines{Default: 2 * time.Second, Max: time.Second}, "shorter than the default"},
		{"above upstream", Deadlines{Default: time.Second, Max: time.Minute}, "longer than the aggregator's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate()
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}
