package aggregate

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"xii/libs/xiiapi"
	"xii/libs/xiiapi/xiihttp"
)

// versionedReader is a fakeReader with a version the test sets, counting
// the pages it reads.
type versionedReader struct {
	fakeReader
	version string
	err     error
	reads   int
}

func (v *versionedReader) ResponsesVersion(context.Context) (string, error) { return v.version, v.err }

func (v *versionedReader) Query(ctx context.Context, q Query) (ResultPage, error) {
	v.reads++
	return v.fakeReader.Query(ctx, q)
}

func rows(n int, text string) []Response {
	out := make([]Response, n)
	for i := range out {
		out[i] = Response{Provider: "blue", ProviderID: string(rune('a' + i)), Text: text, CreatedAt: time.Unix(int64(100-i), 0).UTC()}
	}
	return out
}

func TestPageCacheKeepsAPageWhileTheVersionHolds(t *testing.T) {
	r := &versionedReader{fakeReader: fakeReader{rows: rows(3, "t")}, version: "v1"}
	c := NewPageCache(r, 0, 0)
	q := Query{Limit: 2, Filter: Filter{Device: "iOS"}}
	read := func(q Query) ResultPage {
		t.Helper()
		p, err := c.Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	read(q)
	read(q)
	if r.reads != 1 {
		t.Fatalf("%d reads for one version, want 1", r.reads)
	}
	read(Query{Limit: 2, Filter: Filter{Device: "web"}})
	p := read(Query{Limit: 2, Filter: Filter{Device: "iOS"}, After: &Key{CreatedAt: time.Unix(99, 0), Provider: "blue", ProviderID: "b"}})
	if r.reads != 3 || len(p.Responses) != 2 {
		t.Fatalf("%d reads: another filter and another cursor are other queries", r.reads)
	}
	r.version, r.rows = "v2", rows(3, "changed")
	if p := read(q); r.reads != 4 || p.Responses[0].Text != "changed" {
		t.Fatalf("%d reads, text %q: a new version must read again", r.reads, p.Responses[0].Text)
	}
	if hits, misses := c.Counts(); hits != 1 || misses != 4 {
		t.Fatalf("counts %d hits %d misses, want 1 and 4", hits, misses)
	}
}

func TestPageCacheWithoutAVersionKeepsNothing(t *testing.T) {
	r := &versionedReader{fakeReader: fakeReader{rows: rows(3, "t")}, err: errors.New("database down")}
	c := NewPageCache(r, 0, 0)
	for range 2 {
		if _, err := c.Query(t.Context(), Query{Limit: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if r.reads != 2 || len(c.entries) != 0 {
		t.Fatalf("%d reads, %d kept: without a version every query reads and nothing is kept", r.reads, len(c.entries))
	}
}

func TestPageCacheBounds(t *testing.T) {
	r := &versionedReader{fakeReader: fakeReader{rows: rows(3, "t")}, version: "v"}
	c := NewPageCache(r, 2, 1<<20)
	for _, d := range []string{"a", "b", "c"} {
		if _, err := c.Query(t.Context(), Query{Limit: 2, Filter: Filter{Device: d}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.entries) != 2 {
		t.Fatalf("%d kept, want at most 2", len(c.entries))
	}
	if _, ok := c.get(cacheKey(Query{Limit: 2, Filter: Filter{Device: "a"}}), "v"); ok {
		t.Fatal("the least recently used page was kept")
	}

	big := &versionedReader{fakeReader: fakeReader{rows: rows(3, strings.Repeat("x", 3_000))}, version: "v"}
	c = NewPageCache(big, 0, 100_000)
	for _, d := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		if _, err := c.Query(t.Context(), Query{Limit: 3, Filter: Filter{Device: d}}); err != nil {
			t.Fatal(err)
		}
	}
	if c.bytes > c.maxBytes || len(c.entries) == 0 || len(c.entries) == 8 {
		t.Fatalf("%d bytes in %d pages, bound %d", c.bytes, len(c.entries), c.maxBytes)
	}
	huge := &versionedReader{fakeReader: fakeReader{rows: rows(3, strings.Repeat("x", 100_000))}, version: "v"}
	c = NewPageCache(huge, 0, 100_000)
	if _, err := c.Query(t.Context(), Query{Limit: 3}); err != nil || len(c.entries) != 0 {
		t.Fatalf("err %v, %d kept: a page larger than a quarter of the bound is not kept", err, len(c.entries))
	}
}

// TestEncodedBodyIsTheContracts: the body written from a page's encoded
// fields and the sync is the contract's ResponsesBody, for a kept page
// encoded once and for one that is not kept.
func TestEncodedBodyIsTheContracts(t *testing.T) {
	next := &Key{CreatedAt: time.Unix(5, 0).UTC(), Provider: "red", ProviderID: "x<&>"}
	rep := SyncReport{Complete: false, Providers: map[string]ProviderSync{"red": {Status: xiiapi.StatusTimeout}}}
	for _, p := range []ResultPage{
		{Responses: rows(2, `<b>"quoted"</b>`), Next: next},
		{Responses: rows(2, "t"), shared: new(sharedPage)},
		{},
	} {
		want, err := json.Marshal(xiiapi.ResponsesBody{Data: xiihttp.OrEmpty(p.Responses), NextCursor: nextCursor(p), Sync: &rep})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			fields, err := p.encodeOnce(encodePageFields)
			if err != nil {
				t.Fatal(err)
			}
			sync, _ := json.Marshal(rep)
			if got := string(fields) + `,"sync":` + string(sync) + "}"; got != string(want) {
				t.Fatalf("body\n%s\nwant\n%s", got, want)
			}
		}
	}
}

func nextCursor(p ResultPage) string {
	if p.Next == nil {
		return ""
	}
	return p.Next.String()
}

// TestCacheKeyNamesEveryField: two queries that differ in any field of
// the filter, the limit or the cursor are kept apart. A field added to
// Filter that the key left out would answer one filter with another's page.
func TestCacheKeyNamesEveryField(t *testing.T) {
	base := Query{Limit: 10}
	seen := map[string]string{cacheKey(base): "zero"}
	ft := reflect.TypeFor[Filter]()
	for i := range ft.NumField() {
		q := base
		f := reflect.ValueOf(&q.Filter).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)))
		default:
			t.Fatalf("Filter.%s: a %s; teach this test (and cacheKey) about it", ft.Field(i).Name, f.Kind())
		}
		k := cacheKey(q)
		if other, ok := seen[k]; ok {
			t.Fatalf("Filter.%s set gives the key of %s: %q", ft.Field(i).Name, other, k)
		}
		seen[k] = ft.Field(i).Name
	}
	for name, q := range map[string]Query{
		"limit":                    {Limit: 11},
		"cursor":                   {Limit: 10, After: &Key{CreatedAt: time.Unix(1, 0).UTC(), Provider: "p", ProviderID: "1"}},
		"since a nanosecond later": {Limit: 10, Filter: Filter{Since: time.Date(2026, 1, 2, 3, 4, 5, 7, time.UTC)}},
	} {
		k := cacheKey(q)
		if other, ok := seen[k]; ok {
			t.Fatalf("%s gives the key of %s: %q", name, other, k)
		}
		seen[k] = name
	}
}
