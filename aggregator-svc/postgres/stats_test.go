package postgres

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/libs/xiiapi"
)

func TestStats(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	all := seed(t, s)
	tests := []struct {
		groupBy []string
		filter  aggregate.Filter
	}{
		{nil, aggregate.Filter{}},
		{nil, aggregate.Filter{Device: "iOS", Location: "Germany"}},
		{[]string{"survey"}, aggregate.Filter{}},
		{[]string{"device"}, aggregate.Filter{}},
		{[]string{"location"}, aggregate.Filter{}},
		{[]string{"provider"}, aggregate.Filter{}},
		{[]string{"device", "location"}, aggregate.Filter{}},
		{[]string{"location", "device"}, aggregate.Filter{Provider: "red"}},
		{[]string{"provider", "survey", "device", "location"}, aggregate.Filter{}},
		{[]string{"device"}, aggregate.Filter{Location: "Spain", Since: t0.Add(-12 * time.Second)}},
		{[]string{"device"}, aggregate.Filter{Device: "'; DROP TABLE responses; --"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%+v", tt.groupBy, tt.filter), func(t *testing.T) {
			got, err := s.Stats(t.Context(), aggregate.StatsQuery{Filter: tt.filter, GroupBy: tt.groupBy})
			if err != nil {
				t.Fatal(err)
			}
			want := expectedStats(filtered(all, tt.filter), aggregate.StatsQuery{GroupBy: tt.groupBy})
			if got.Total != want.Total {
				t.Errorf("total = %d, want %d", got.Total, want.Total)
			}
			if got.Groups == nil || !slices.EqualFunc(got.Groups, want.Groups, func(a, b aggregate.Group) bool {
				return a.Count == b.Count && maps.Equal(a.Key, b.Key)
			}) {
				t.Errorf("groups = %v\nwant %v", got.Groups, want.Groups)
			}
		})
	}
}

// TestStatsByTime counts per time bucket, alone and with other
// dimensions, from the rollup and from the table, and keeps the top
// groups.
func TestStatsByTime(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	var all []aggregate.Response
	for i, p := range []string{"blue", "red"} {
		recs := records(0, 600)
		for j := range recs {
			// Every 97 s over about 16 hours, crossing midnight; red a little later.
			recs[j].CreatedAt = time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC).Add(time.Duration(j*97+i*31) * time.Second)
			all = append(all, response(p, recs[j]))
		}
		apply(t, s, p, "", aggregate.Page{Records: recs, Next: "c1"})
	}
	midnight := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []aggregate.StatsQuery{
		{GroupBy: []string{"time"}, Interval: "1h"},
		{GroupBy: []string{"time"}, Interval: "1d"},
		{GroupBy: []string{"time"}, Interval: "1m"},
		{GroupBy: []string{"time", "provider"}, Interval: "1h"},
		{GroupBy: []string{"device", "time"}, Interval: "1d", Filter: aggregate.Filter{Location: "Germany"}},
		{GroupBy: []string{"time", "provider"}, Interval: "1h", Filter: aggregate.Filter{Since: midnight, Until: midnight.Add(3 * time.Hour)}},
		{GroupBy: []string{"time"}, Interval: "1h", Filter: aggregate.Filter{Since: midnight.Add(-90 * time.Second)}},
		{GroupBy: []string{"time"}, Interval: "1h", Top: 3},
		{GroupBy: []string{"device"}, Top: 1},
		{GroupBy: []string{"device"}, Top: 3},
		{Top: 1},
	} {
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			got, err := s.Stats(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedStats(filtered(all, q.Filter), q)
			if got.Total != want.Total || got.Truncated != want.Truncated || !slices.EqualFunc(got.Groups, want.Groups, func(a, b aggregate.Group) bool {
				return a.Count == b.Count && maps.Equal(a.Key, b.Key)
			}) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
	got, err := s.Stats(t.Context(), aggregate.StatsQuery{GroupBy: []string{"time"}, Interval: "1d"})
	days := []string{}
	for _, g := range got.Groups {
		days = append(days, g.Key["time"])
	}
	slices.Sort(days)
	if err != nil || !slices.Equal(days, []string{"2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"}) {
		t.Errorf("day buckets %+v, %v; want 2026-11-30T00:00:00Z and 2026-12-01T00:00:00Z", got.Groups, err)
	}
}

// expectedStats counts rs as Stats should answer q: largest group first,
// then by the keys in grouping order, at most q.Top or MaxGroups.
func expectedStats(rs []aggregate.Response, q aggregate.StatsQuery) aggregate.Stats {
	groupBy := q.GroupBy
	st := aggregate.Stats{Groups: []aggregate.Group{}, Total: int64(len(rs))}
	if len(groupBy) == 0 {
		return st
	}
	counts := map[string]*aggregate.Group{}
	for _, r := range rs {
		fields := map[string]string{"survey": r.Survey, "device": r.Device, "location": r.Location, "provider": r.Provider,
			"time": xiiapi.TimeKey(r.CreatedAt.Truncate(q.Bucket()))}
		key := map[string]string{}
		var id []string
		for _, d := range groupBy {
			key[d] = fields[d]
			id = append(id, fields[d])
		}
		g, ok := counts[strings.Join(id, "\x00")]
		if !ok {
			g = &aggregate.Group{Key: key}
			counts[strings.Join(id, "\x00")] = g
		}
		g.Count++
	}
	for _, g := range counts {
		st.Groups = append(st.Groups, *g)
	}
	slices.SortFunc(st.Groups, func(a, b aggregate.Group) int {
		c := cmp.Compare(b.Count, a.Count)
		for _, d := range groupBy {
			c = cmp.Or(c, cmp.Compare(a.Key[d], b.Key[d]))
		}
		return c
	})
	limit := cmp.Or(q.Top, aggregate.MaxGroups)
	if len(st.Groups) > limit {
		st.Groups, st.Truncated = st.Groups[:limit], true
	}
	return st
}

func TestStatsGroupLimit(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	recs := records(0, aggregate.MaxGroups+5)
	for i := range recs {
		recs[i].Survey = fmt.Sprintf("survey-%05d", i)
	}
	recs = append(recs, records(aggregate.MaxGroups+5, aggregate.MaxGroups+8)...) // three more in "s1"/"s2"
	apply(t, s, "blue", "", aggregate.Page{Records: recs, Next: "c1"})

	got, err := s.Stats(t.Context(), aggregate.StatsQuery{GroupBy: []string{"survey"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != int64(len(recs)) || len(got.Groups) != aggregate.MaxGroups || !got.Truncated {
		t.Fatalf("total %d, %d groups, truncated %v; want %d, %d, truncated", got.Total, len(got.Groups), got.Truncated, len(recs), aggregate.MaxGroups)
	}
	few, err := s.Stats(t.Context(), aggregate.StatsQuery{GroupBy: []string{"provider"}})
	if err != nil || few.Truncated || len(few.Groups) != 1 {
		t.Fatalf("one group: %+v, %v; want it whole, not truncated", few, err)
	}
	if g := got.Groups[0]; g.Count != 2 {
		t.Errorf("first group %v, want the largest (2)", g)
	}
}

func TestStatsInvalidGroup(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for _, groupBy := range [][]string{
		{"text"},
		{""},
		{"device", "device"},
		{"device", "count(*)"},
		{"Device"},
		{"device; DROP TABLE responses"},
	} {
		_, err := s.Stats(t.Context(), aggregate.StatsQuery{GroupBy: groupBy})
		if !errors.Is(err, aggregate.ErrInvalid) {
			t.Errorf("group by %q: err = %v, want ErrInvalid", groupBy, err)
		}
	}
}

// Every dimension the domain offers has a column, time a unit for every
// interval.
func TestGroupColumnsCoverDimensions(t *testing.T) {
	t.Parallel()
	for _, d := range aggregate.GroupDimensions {
		if _, ok := groupColumns[d]; !ok && d != xiiapi.TimeDimension {
			t.Errorf("dimension %q has no column", d)
		}
	}
	if len(groupColumns) != len(aggregate.GroupDimensions)-1 {
		t.Errorf("%d group columns for %d dimensions and time", len(groupColumns), len(aggregate.GroupDimensions)-1)
	}
	for name := range xiiapi.Intervals {
		if _, ok := timeUnits[name]; !ok {
			t.Errorf("interval %q has no unit", name)
		}
	}
	if len(timeUnits) != len(xiiapi.Intervals) {
		t.Errorf("%d units for %d intervals", len(timeUnits), len(xiiapi.Intervals))
	}
}
