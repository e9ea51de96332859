package postgres

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
)

// seedProviders are the providers of the query tests. Each gets the same
// records, so that times and provider ids tie across providers and only
// the provider breaks the tie.
var seedProviders = []string{"acme", "blue", "red"}

const seedPerProvider = 60

// seed stores the query tests' data set in s and returns it in read order.
func seed(tb testing.TB, s *Store) []aggregate.Response {
	tb.Helper()
	var all []aggregate.Response
	for _, p := range seedProviders {
		recs := records(0, seedPerProvider)
		apply(tb, s, p, "", aggregate.Page{Records: recs, Next: "c1"})
		for _, r := range recs {
			all = append(all, response(p, r))
		}
	}
	sortResponses(all)
	return all
}

// matches reports whether r passes f, as the store should decide it.
func matches(f aggregate.Filter, r aggregate.Response) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	return eq(f.Survey, r.Survey) && eq(f.Device, r.Device) && eq(f.Location, r.Location) && eq(f.Provider, r.Provider) &&
		(f.Since.IsZero() || !r.CreatedAt.Before(f.Since)) &&
		(f.Until.IsZero() || r.CreatedAt.Before(f.Until))
}

func filtered(all []aggregate.Response, f aggregate.Filter) []aggregate.Response {
	var out []aggregate.Response
	for _, r := range all {
		if matches(f, r) {
			out = append(out, r)
		}
	}
	return out
}

var queryFilters = []struct {
	name   string
	filter aggregate.Filter
}{
	{"none", aggregate.Filter{}},
	{"survey", aggregate.Filter{Survey: "s1"}},
	{"device", aggregate.Filter{Device: "iOS"}},
	{"location", aggregate.Filter{Location: "Germany"}},
	{"provider", aggregate.Filter{Provider: "blue"}},
	{"device and location", aggregate.Filter{Device: "iOS", Location: "Germany"}},
	{"all fields", aggregate.Filter{Survey: "s2", Device: "Android", Location: "Spain", Provider: "red"}},
	{"since", aggregate.Filter{Since: t0.Add(-5 * time.Second)}},
	{"until", aggregate.Filter{Until: t0.Add(-5 * time.Second)}},
	{"since and until", aggregate.Filter{Since: t0.Add(-12 * time.Second), Until: t0.Add(-4 * time.Second)}},
	{"provider and time", aggregate.Filter{Provider: "acme", Since: t0.Add(-12 * time.Second), Until: t0.Add(-4 * time.Second)}},
	{"until before since", aggregate.Filter{Since: t0.Add(-4 * time.Second), Until: t0.Add(-12 * time.Second)}},
	{"no match", aggregate.Filter{Device: "Nokia"}},
	{"quote in value", aggregate.Filter{Device: "iOS' OR '1'='1"}},
	{"statement in value", aggregate.Filter{Location: "'; DROP TABLE responses; --"}},
	{"placeholder in value", aggregate.Filter{Survey: "$1", Provider: "blue) OR (true"}},
}

// Every filter, paged with several limits, reads exactly its rows, each
// once and in order.
func TestQueryFilters(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	all := seed(t, s)
	for _, tt := range queryFilters {
		want := filtered(all, tt.filter)
		for _, limit := range []int{1, 7, aggregate.MaxLimit} {
			t.Run(tt.name+"/limit="+strconv.Itoa(limit), func(t *testing.T) {
				got := queryAll(t, s, tt.filter, limit)
				assertResponses(t, got, want)
			})
		}
	}
	if n := countRows(t, s, ""); n != len(all) {
		t.Errorf("%d rows after the queries, want %d", n, len(all))
	}
}

// A page after any key, including keys of other providers than the one
// filtered and times no row has, starts right after it.
func TestQueryAfterAnyKey(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	all := seed(t, s)
	tie := t0.Add(-7 * time.Second) // a time three records of each provider share
	keys := []aggregate.Key{
		{CreatedAt: tie, Provider: "blue", ProviderID: "id-000022"},
		{CreatedAt: tie, Provider: "blue", ProviderID: "id-000021"},
		{CreatedAt: tie, Provider: "aaa", ProviderID: "zzz"},
		{CreatedAt: tie, Provider: "bzz", ProviderID: ""},
		{CreatedAt: tie, Provider: "zzz", ProviderID: "id-000021"},
		{CreatedAt: tie.Add(500 * time.Millisecond), Provider: "blue", ProviderID: "x"},
		{CreatedAt: t0.Add(time.Hour), Provider: "", ProviderID: ""},
		{CreatedAt: t0.Add(-time.Hour), Provider: "zzz", ProviderID: "zzz"},
	}
	for _, tt := range queryFilters {
		for _, k := range keys {
			t.Run(tt.name+"/"+k.Provider+"/"+k.ProviderID+"/"+k.CreatedAt.Format(time.TimeOnly), func(t *testing.T) {
				var want []aggregate.Response
				for _, r := range filtered(all, tt.filter) {
					if compareKeys(keyOf(r), k) > 0 {
						want = append(want, r)
					}
				}
				got, err := s.Query(t.Context(), aggregate.Query{Filter: tt.filter, Limit: 5, After: &k})
				if err != nil {
					t.Fatal(err)
				}
				assertResponses(t, got.Responses, want[:min(5, len(want))])
				if (got.Next != nil) != (len(want) > 5) {
					t.Errorf("next = %+v with %d rows after the key", got.Next, len(want))
				}
			})
		}
	}
}

func TestQueryLimits(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	apply(t, s, "blue", "", aggregate.Page{Records: records(0, 3), Next: "c1"})
	for _, limit := range []int{0, -1, aggregate.MaxLimit + 1} {
		_, err := s.Query(t.Context(), aggregate.Query{Limit: limit})
		if !errors.Is(err, aggregate.ErrInvalid) {
			t.Errorf("limit %d: err = %v, want ErrInvalid", limit, err)
		}
	}
	tests := []struct {
		limit    int
		rows     int
		wantNext bool
	}{
		{2, 2, true},
		{3, 3, false},
		{4, 3, false},
	}
	for _, tt := range tests {
		p, err := s.Query(t.Context(), aggregate.Query{Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Responses) != tt.rows || (p.Next != nil) != tt.wantNext {
			t.Errorf("limit %d: %d rows, next %+v; want %d rows, next %v", tt.limit, len(p.Responses), p.Next, tt.rows, tt.wantNext)
		}
	}
}

func TestQueryEmpty(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	p, err := s.Query(t.Context(), aggregate.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if p.Responses == nil || len(p.Responses) != 0 || p.Next != nil {
		t.Errorf("page = %+v, want an empty non-nil list and no next", p)
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func assertResponses(tb testing.TB, got, want []aggregate.Response) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%d responses, want %d", len(got), len(want))
	}
	for i := range got {
		if !sameResponse(got[i], want[i]) {
			tb.Fatalf("response %d = %+v\nwant %+v", i, got[i], want[i])
		}
		if got[i].CreatedAt.Location() != time.UTC {
			tb.Fatalf("response %d: created_at in %v, want UTC", i, got[i].CreatedAt.Location())
		}
	}
}
