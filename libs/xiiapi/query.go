package xiiapi

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"xii/libs/params"
)

// Query limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	// MaxCursorLen bounds a cursor, in bytes.
	MaxCursorLen = 512
	// MaxQueryLen bounds a request's raw query string, in bytes.
	MaxQueryLen = 4096
	// MaxGroups bounds the groups one stats answer returns, and top.
	MaxGroups = 1000
)

// TimeDimension groups by time bucket: the start of the Interval a
// response's created_at falls in, RFC 3339 in UTC.
const TimeDimension = "time"

// GroupDimensions are what a stats query may group by.
var GroupDimensions = []string{"survey", "device", "location", "provider", TimeDimension}

// Intervals are the time buckets a stats query may group by, by name;
// buckets start at UTC minutes, hours and midnights.
var Intervals = map[string]time.Duration{"1m": time.Minute, "1h": time.Hour, "1d": 24 * time.Hour}

// intervalNames lists Intervals in the order error messages name them.
var intervalNames = "1m, 1h, 1d"

// Parameter sets: which query parameters a route accepts.
var (
	QueryParams = append([]string{"limit", "cursor", "timeout"}, FilterParams...)
	StatsParams = append([]string{"group_by", "interval", "top", "timeout"}, FilterParams...)
)

// Query asks for one page of responses, newest first.
type Query struct {
	Filter Filter
	Limit  int    // 1..MaxLimit; 0 means DefaultLimit
	Cursor string // opaque, a previous page's next_cursor; "" the first page
}

// StatsQuery asks for counts per group of the filtered responses.
type StatsQuery struct {
	Filter  Filter
	GroupBy []string // each one of GroupDimensions, no repeats; empty: total only
	// Interval is the time bucket, one of Intervals: required when GroupBy
	// holds TimeDimension, refused otherwise.
	Interval string
	// Top keeps only the Top largest groups (ties in key order), 1..MaxGroups;
	// 0 means MaxGroups.
	Top int
}

// Bucket returns the length of q's time bucket; 0 without one.
func (q StatsQuery) Bucket() time.Duration { return Intervals[q.Interval] }

// GroupsByTime reports whether q groups by time bucket.
func (q StatsQuery) GroupsByTime() bool { return slices.Contains(q.GroupBy, TimeDimension) }

// TimeKey is the key value of the time bucket starting at start.
func TimeKey(start time.Time) string { return start.UTC().Format(time.RFC3339) }

// ParseValues parses a raw query string strictly: known parameters only,
// each at most once, at most MaxQueryLen bytes. Errors wrap ErrInvalid.
func ParseValues(raw string, known []string) (url.Values, error) {
	v, err := params.Parse(raw, known, MaxQueryLen)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return v, nil
}

// ParseQuery reads a Query from parameters ParseValues accepted. It checks
// their form; Validate checks their values.
func ParseQuery(v url.Values) (Query, error) {
	f, err := ParseFilter(v)
	if err != nil {
		return Query{}, err
	}
	q := Query{Filter: f, Cursor: v.Get("cursor")}
	if v.Has("limit") {
		if q.Limit, err = strconv.Atoi(v.Get("limit")); err != nil || q.Limit == 0 {
			return Query{}, errLimit
		}
	}
	if v.Has("cursor") && q.Cursor == "" {
		return Query{}, Invalidf("cursor: empty; leave it out for the first page")
	}
	return q, nil
}

// ParseStatsQuery reads a StatsQuery from parameters ParseValues accepted;
// group_by is comma-separated. Validate checks the values.
func ParseStatsQuery(v url.Values) (StatsQuery, error) {
	f, err := ParseFilter(v)
	if err != nil {
		return StatsQuery{}, err
	}
	q := StatsQuery{Filter: f}
	if v.Has("group_by") {
		s := v.Get("group_by")
		if s == "" {
			return StatsQuery{}, Invalidf("group_by: empty; name one or more of %s", strings.Join(GroupDimensions, ", "))
		}
		q.GroupBy = strings.Split(s, ",")
	}
	if v.Has("interval") {
		if q.Interval = v.Get("interval"); q.Interval == "" {
			return StatsQuery{}, Invalidf("interval: empty; name one of %s, or leave it out without group_by=time", intervalNames)
		}
	}
	if v.Has("top") {
		if q.Top, err = strconv.Atoi(v.Get("top")); err != nil || q.Top == 0 {
			return StatsQuery{}, errTop
		}
	}
	return q, nil
}

var (
	errLimit = Invalidf("limit: must be an integer between 1 and %d", MaxLimit)
	errTop   = Invalidf("top: must be an integer between 1 and %d", MaxGroups)
)

// Validate checks the limit, the filter and the cursor's form; what the
// cursor points at only the aggregator can judge. Errors wrap ErrInvalid.
func (q Query) Validate() error {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return errLimit
	}
	if err := q.Filter.Validate(); err != nil {
		return err
	}
	if q.Cursor != "" {
		if _, err := base64.RawURLEncoding.DecodeString(q.Cursor); err != nil || len(q.Cursor) > MaxCursorLen {
			return Invalidf("cursor: malformed; pass next_cursor from a previous page unchanged")
		}
	}
	return nil
}

// Validate checks the filter, the grouping, the interval and top. Errors
// wrap ErrInvalid.
func (q StatsQuery) Validate() error {
	if err := q.Filter.Validate(); err != nil {
		return err
	}
	for i, g := range q.GroupBy {
		if !slices.Contains(GroupDimensions, g) {
			return Invalidf("group_by: %q is not one of %s", g, strings.Join(GroupDimensions, ", "))
		}
		if slices.Contains(q.GroupBy[:i], g) {
			return Invalidf("group_by: %q given twice", g)
		}
	}
	switch _, ok := Intervals[q.Interval]; {
	case q.GroupsByTime() && q.Interval == "":
		return Invalidf("interval: required with group_by=time; one of %s", intervalNames)
	case q.GroupsByTime() && !ok:
		return Invalidf("interval: %q is not one of %s", q.Interval, intervalNames)
	case !q.GroupsByTime() && q.Interval != "":
		return Invalidf("interval: only with group_by=time")
	}
	if q.Top < 0 || q.Top > MaxGroups {
		return errTop
	}
	return nil
}

// Values returns q in the URL form ParseQuery reads.
func (q Query) Values() url.Values {
	v := q.Filter.Values()
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	return v
}

// Values returns q in the URL form ParseStatsQuery reads.
func (q StatsQuery) Values() url.Values {
	v := q.Filter.Values()
	if len(q.GroupBy) > 0 {
		v.Set("group_by", strings.Join(q.GroupBy, ","))
	}
	if q.Interval != "" {
		v.Set("interval", q.Interval)
	}
	if q.Top != 0 {
		v.Set("top", strconv.Itoa(q.Top))
	}
	return v
}

// Timeouts bound the deadline a request may ask for: at least Min, at most
// Max, Default when it asks for none.
type Timeouts struct {
	Min, Default, Max time.Duration
}

// The deadlines the aggregator accepts: the dashboard asks for none longer
// than AggregatorMaxTimeout, and makes no call with less time left than
// AggregatorMinTimeout, below which an answer could only be a timeout.
const (
	AggregatorMinTimeout     = 10 * time.Millisecond
	AggregatorDefaultTimeout = 2 * time.Second
	AggregatorMaxTimeout     = 30 * time.Second
)

// AggregatorTimeouts bound the deadline of a request to the aggregator.
var AggregatorTimeouts = Timeouts{Min: AggregatorMinTimeout, Default: AggregatorDefaultTimeout, Max: AggregatorMaxTimeout}

// Parse reads the requested deadline from the timeout parameter or,
// failing that, the RequestTimeoutHeader value; both are Go durations
// ("1500ms"). Errors wrap ErrInvalid and name where the bad value came
// from.
func (b Timeouts) Parse(v url.Values, header string) (time.Duration, error) {
	name, s := "timeout", v.Get("timeout")
	if !v.Has("timeout") {
		name, s = RequestTimeoutHeader, header
		if s == "" {
			return b.Default, nil
		}
	}
	t, err := time.ParseDuration(s)
	switch {
	case err != nil || t <= 0:
		return 0, Invalidf("%s: must be a positive duration such as 1500ms", name)
	case t < b.Min:
		return 0, Invalidf("%s: %s is shorter than the minimum %s", name, t, b.Min)
	case t > b.Max:
		return 0, Invalidf("%s: %s is longer than the maximum %s", name, t, b.Max)
	}
	return t, nil
}
