package dashboard

import (
	"errors"
	"testing"
	"time"

	"xii/libs/xiiapi"
)

// FuzzParseQuery checks that the edge parsing of GET /api/v1/responses
// never panics, rejects only with ErrInvalid, and that whatever it accepts
// is valid and survives the trip through the URL form the aggregator is
// sent unchanged.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"", "device=iOS&location=Germany&limit=50", "limit=0", "limit=1&limit=2", "a=%zz",
		"since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00%2B01:00", "cursor=eyJ0IjoxfQ",
		"cursor=*", "location=%ff", "survey=a%00b", "timeout=1s", "group_by=device",
		"since=2026-01-01T00:00:00%2B23:59", "until=0001-01-01T00:00:00-23:59", "cursor=AA", "cursor=_-_-",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseResponses(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parse(%q) error %v does not wrap ErrInvalid", raw, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > MaxLimit {
			t.Fatalf("parse(%q) accepted limit %d", raw, q.Limit)
		}
		for _, tm := range []time.Time{q.Filter.Since, q.Filter.Until} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Fatalf("parse(%q) accepted a time in %v; the aggregator's store takes UTC", raw, tm.Location())
			}
		}
		again, err := parseResponses(q.Values().Encode())
		if err != nil {
			t.Fatalf("the URL form %q of accepted %q is rejected: %v", q.Values().Encode(), raw, err)
		}
		if !sameQuery(q, again) {
			t.Fatalf("round trip of %q changed %+v to %+v", raw, q, again)
		}
	})
}

// FuzzParseStatsQuery does the same for GET /api/v1/stats.
func FuzzParseStatsQuery(f *testing.F) {
	for _, seed := range []string{"", "group_by=device,location", "group_by=,", "group_by=device,device", "since=x",
		"group_by=time,provider&interval=1h", "group_by=time", "interval=1d", "group_by=device&top=5", "top=+7"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := xiiapi.ParseValues(raw, statsParams)
		var q StatsQuery
		if err == nil {
			if q, err = xiiapi.ParseStatsQuery(v); err == nil {
				err = q.Validate()
			}
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parse(%q) error %v does not wrap ErrInvalid", raw, err)
			}
			return
		}
		again, err := xiiapi.ParseStatsQuery(q.Values())
		if err != nil || again.Validate() != nil || len(again.GroupBy) != len(q.GroupBy) || again.Interval != q.Interval || again.Top != q.Top {
			t.Fatalf("round trip of %q: %+v, %v", raw, again, err)
		}
	})
}
