package dashboard

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"xii/libs/params"
	"xii/libs/xiiapi"
)

// maxQueryBytes bounds a request's raw query string.
const maxQueryBytes = 4096

// Param sets: which query parameters each route accepts.
var (
	responsesParams = append([]string{"limit", "cursor", "timeout"}, xiiapi.FilterParams...)
	statsParams     = append([]string{"group_by", "timeout"}, xiiapi.FilterParams...)
	reporterParams  = append([]string{"limit", "timeout"}, xiiapi.FilterParams...)
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
func ParseFilter(v url.Values) (Filter, error) { return xiiapi.ParseFilter(v) }

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
