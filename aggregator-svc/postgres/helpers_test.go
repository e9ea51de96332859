package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"xii/aggregator-svc/aggregate"
	"xii/testkit/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is the creation time of the first test record; later ones are older.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openStore opens a Store on a fresh database, closed and dropped when tb
// ends.
func openStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	url := pgtest.NewDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, url, opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// record returns the i-th record of a deterministic data set: three
// devices, three locations, two surveys, and creation times one second
// apart except that every group of three shares one (to exercise the
// tie-breakers).
func record(i int) aggregate.Record {
	r := aggregate.Record{
		ProviderID: fmt.Sprintf("id-%06d", i),
		Survey:     []string{"s1", "s2"}[i%2],
		Text:       fmt.Sprintf("response %d", i),
		Device:     []string{"iOS", "Android", "web"}[i%3],
		Location:   []string{"Germany", "France", "Spain"}[(i/3)%3],
		CreatedAt:  t0.Add(-time.Duration(i/3) * time.Second),
	}
	if i%4 == 0 {
		r.Answers = json.RawMessage(fmt.Sprintf(`{"q1": %d}`, i))
	}
	return r
}

// records returns record(i) for i in [from, to).
func records(from, to int) []aggregate.Record {
	out := make([]aggregate.Record, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, record(i))
	}
	return out
}

// apply applies page for p from cursor from and fails tb on error.
func apply(tb testing.TB, s *Store, p, from string, page aggregate.Page) Applied {
	tb.Helper()
	a, err := s.ApplyPage(tb.Context(), p, from, page)
	if err != nil {
		tb.Fatalf("apply page of %s from %q: %v", p, from, err)
	}
	return a
}

// cursorOf returns p's stored cursor and fails tb on error.
func cursorOf(tb testing.TB, s *Store, p string) string {
	tb.Helper()
	c, err := s.Cursor(tb.Context(), p)
	if err != nil {
		tb.Fatalf("cursor of %s: %v", p, err)
	}
	return c
}

// countRows returns the number of stored responses of p, or of all
// providers when p is "".
func countRows(tb testing.TB, s *Store, p string) int {
	tb.Helper()
	query, args := "SELECT count(*) FROM responses", []any{}
	if p != "" {
		query, args = query+" WHERE provider = $1", append(args, p)
	}
	var n int
	if err := s.db.QueryRowContext(tb.Context(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("count rows: %v", err)
	}
	return n
}

// stored returns every stored response of p by provider id, read with
// Query so that its mapping is exercised too.
func stored(tb testing.TB, s *Store, p string) map[string]aggregate.Response {
	tb.Helper()
	out := map[string]aggregate.Response{}
	for _, r := range queryAll(tb, s, aggregate.Filter{Provider: p}, aggregate.MaxLimit) {
		if _, dup := out[r.ProviderID]; dup {
			tb.Fatalf("provider id %s read twice", r.ProviderID)
		}
		out[r.ProviderID] = r
	}
	return out
}

// queryAll pages through every response matching f with the given limit.
func queryAll(tb testing.TB, s *Store, f aggregate.Filter, limit int) []aggregate.Response {
	tb.Helper()
	var (
		out   []aggregate.Response
		after *aggregate.Key
	)
	for pages := 0; ; pages++ {
		if pages > 100000 {
			tb.Fatalf("query %+v: no last page after %d pages", f, pages)
		}
		p, err := s.Query(tb.Context(), aggregate.Query{Filter: f, Limit: limit, After: after})
		if err != nil {
			tb.Fatalf("query %+v after %+v: %v", f, after, err)
		}
		if len(p.Responses) > limit {
			tb.Fatalf("query %+v: %d responses, limit %d", f, len(p.Responses), limit)
		}
		out = append(out, p.Responses...)
		if p.Next == nil {
			return out
		}
		if len(p.Responses) != limit {
			tb.Fatalf("query %+v: short page of %d with a next key", f, len(p.Responses))
		}
		after = p.Next
	}
}

// response returns r as the aggregate stores it for provider p.
func response(p string, r aggregate.Record) aggregate.Response {
	return aggregate.Response{
		Provider:   p,
		ProviderID: r.ProviderID,
		Survey:     r.Survey,
		Text:       r.Text,
		Device:     r.Device,
		Location:   r.Location,
		Answers:    r.Answers,
		CreatedAt:  r.CreatedAt,
	}
}

// keyOf returns r's place in the read order.
func keyOf(r aggregate.Response) aggregate.Key {
	return aggregate.Key{CreatedAt: r.CreatedAt, Provider: r.Provider, ProviderID: r.ProviderID}
}

// compareKeys orders keys as the store reads them: newest first.
func compareKeys(a, b aggregate.Key) int {
	return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.Provider, a.Provider), cmp.Compare(b.ProviderID, a.ProviderID))
}

// sortResponses sorts rs in read order.
func sortResponses(rs []aggregate.Response) {
	slices.SortFunc(rs, func(a, b aggregate.Response) int { return compareKeys(keyOf(a), keyOf(b)) })
}

// sameResponse reports whether got is want, comparing Answers as JSON
// (jsonb normalises spacing) and times as instants.
func sameResponse(got, want aggregate.Response) bool {
	if !got.CreatedAt.Equal(want.CreatedAt) || !sameJSON(got.Answers, want.Answers) {
		return false
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	got.Answers, want.Answers = nil, nil
	return reflect.DeepEqual(got, want)
}

func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// bulkRecord returns the i-th record of a larger, dashboard-like data set:
// iOS and Android two fifths each, twelve locations with Germany the most
// common (a sixth), twenty surveys, one record every 100ms.
func bulkRecord(i int) aggregate.Record {
	h := uint64(i)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e5b5 // spread i's bits
	h ^= h >> 29
	locations := []string{"Germany", "Germany", "France", "Spain", "Italy", "Poland", "Austria",
		"Netherlands", "Belgium", "Sweden", "Norway", "Denmark"}
	r := aggregate.Record{
		ProviderID: fmt.Sprintf("r%09d", i),
		Survey:     fmt.Sprintf("survey-%02d", h%20),
		Text:       fmt.Sprintf("bulk response %d", i),
		Device:     []string{"iOS", "iOS", "Android", "Android", "web"}[(h>>8)%5],
		Location:   locations[(h>>16)%12],
		CreatedAt:  t0.Add(-time.Duration(i) * 100 * time.Millisecond),
	}
	if i%3 == 0 {
		r.Answers = json.RawMessage(fmt.Sprintf(`{"nps": %d}`, h%11))
	}
	return r
}

// seedBulk stores bulkRecord(0..n) spread over four providers in pages of
// pageSize, then analyzes the table so that the planner knows it.
func seedBulk(tb testing.TB, s *Store, n, pageSize int) {
	tb.Helper()
	providers := []string{"blue", "red", "acme", "typeform"}
	cursors := map[string]string{}
	pages := map[string][]aggregate.Record{}
	done := map[string]int{}
	flush := func(p string) {
		done[p] += len(pages[p])
		next := fmt.Sprintf("%s@%d", p, done[p])
		apply(tb, s, p, cursors[p], aggregate.Page{Records: pages[p], Next: next})
		cursors[p], pages[p] = next, pages[p][:0]
	}
	for i := range n {
		p := providers[i%len(providers)]
		pages[p] = append(pages[p], bulkRecord(i))
		if len(pages[p]) == pageSize {
			flush(p)
		}
	}
	for _, p := range providers {
		if len(pages[p]) > 0 {
			flush(p)
		}
	}
	if _, err := s.db.ExecContext(tb.Context(), "ANALYZE responses"); err != nil {
		tb.Fatalf("analyze: %v", err)
	}
}
