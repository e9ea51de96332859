package dashboard

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"xii/libs/params"
)

// maxQueryBytes bounds a request's raw query string.
const maxQueryBytes = 4096

// Param sets: which query parameters each route accepts.
var (
	filterParams    = []string{"survey", "device", "location", "provider", "since", "until"}
	responsesParams = append([]string{"limit", "cursor", "timeout"}, filterParams...)
	statsParams     = append([]string{"group_by", "timeout"}, filterParams...)
	reporterParams  = append([]string{"limit", "timeout"}, filterParams...)
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

// ParseFilter reads the filter parameters; times are RFC 3339.
func ParseFilter(v url.Values) (Filter, error) {
	f := Filter{Survey: v.Get("survey"), Device: v.Get("device"), Location: v.Get("location"), Provider: v.Get("provider")}
	var err error
	if f.Since, err = parseTime(v, "since"); err != nil {
		return Filter{}, err
	}
	if f.Until, err = parseTime(v, "until"); err != nil {
		return Filter{}, err
	}
	return f, nil
}

func parseTime(v url.Values, name string) (time.Time, error) {
	t, err := params.Time(v, name)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return t, nil
}

// ParseQuery reads a Query from parameters checked by ParseValues. It
// checks formats; Query.Validate checks ranges.
func ParseQuery(v url.Values) (Query, error) {
	f, err := ParseFilter(v)
	if err != nil {
		return Query{}, err
	}
	q := Query{Filter: f, Cursor: v.Get("cursor")}
	if q.Limit, err = params.Int(v, "limit", 1, MaxLimit); err != nil {
		return Query{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if v.Has("cursor") && q.Cursor == "" {
		return Query{}, invalidf("cursor: empty; leave it out for the first page")
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
	if v.Has("group_by") {
		s := v.Get("group_by")
		if s == "" {
			return StatsQuery{}, invalidf("group_by: empty; name one or more of %s", strings.Join(GroupDimensions, ", "))
		}
		q.GroupBy = strings.Split(s, ",")
	}
	return q, nil
}

// Values returns f in the URL form ParseFilter reads.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for _, p := range []struct{ name, value string }{
		{"survey", f.Survey}, {"device", f.Device}, {"location", f.Location}, {"provider", f.Provider},
	} {
		if p.value != "" {
			v.Set(p.name, p.value)
		}
	}
	if !f.Since.IsZero() {
		v.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		v.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	return v
}

// Values returns q in the URL form ParseQuery reads; the aggregator reads
// the same form.
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

// Values returns q in the URL form ParseStatsQuery reads; the aggregator
// reads the same form.
func (q StatsQuery) Values() url.Values {
	v := q.Filter.Values()
	if len(q.GroupBy) > 0 {
		v.Set("group_by", strings.Join(q.GroupBy, ","))
	}
	return v
}
