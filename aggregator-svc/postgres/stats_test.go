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
			want := expectedStats(filtered(all, tt.filter), tt.groupBy)
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

// expectedStats counts rs as Stats should: largest group first, then by
// the keys in grouping order.
func expectedStats(rs []aggregate.Response, groupBy []string) aggregate.Stats {
	st := aggregate.Stats{Groups: []aggregate.Group{}, Total: int64(len(rs))}
	if len(groupBy) == 0 {
		return st
	}
	counts := map[string]*aggregate.Group{}
	for _, r := range rs {
		fields := map[string]string{"survey": r.Survey, "device": r.Device, "location": r.Location, "provider": r.Provider}
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

// Every dimension the domain offers has a column.
func TestGroupColumnsCoverDimensions(t *testing.T) {
	t.Parallel()
	for _, d := range aggregate.GroupDimensions {
		if _, ok := groupColumns[d]; !ok {
			t.Errorf("dimension %q has no column", d)
		}
	}
	if len(groupColumns) != len(aggregate.GroupDimensions) {
		t.Errorf("%d group columns for %d dimensions", len(groupColumns), len(aggregate.GroupDimensions))
	}
}
