package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

const testForm = "u6nXL7"

// typeformFor serves h and returns a source for form testForm on it whose
// rate limiter never waits, unless opts bring their own clock.
func typeformFor(tb testing.TB, h http.Handler, opts Options) Source {
	tb.Helper()
	srv := newServer(tb, h)
	if opts.Credential.Token == "" {
		opts.Credential = boundTo(tb, srv.URL, testToken)
	}
	if opts.Now == nil {
		opts.Now = steppingClock(time.Second)
	}
	return newSource(tb, srv, "acme", Descriptor{URL: srv.URL + "/forms/" + testForm, Dialect: DialectTypeform}, opts)
}

// drain fetches from cursor until the source is caught up and returns the
// provider ids in order and the final cursor.
func drain(tb testing.TB, src Source, cursor string, limit int) ([]string, string) {
	tb.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			tb.Fatal("no end after 100 pages")
		}
		page, err := src.Fetch(context.Background(), Request{Cursor: cursor, Rescan: pages == 0, Limit: limit})
		if err != nil {
			tb.Fatalf("page %d: %v", pages, err)
		}
		for _, r := range page.Records {
			ids = append(ids, r.ProviderID)
		}
		cursor = page.Next
		if !page.HasMore {
			return ids, cursor
		}
	}
}

func TestTypeformPagesToTheEnd(t *testing.T) {
	fake := &fakeTypeform{formID: testForm, token: testToken}
	fake.add(23)
	src := typeformFor(t, fake, Options{})

	ids, cursor := drain(t, src, "", 5)
	checkOnceInOrder(t, ids, fake.items[:23])

	// Responses processed later come after the last token, and only they.
	fake.add(3)
	ids, _ = drain(t, src, cursor, 5)
	checkOnceInOrder(t, ids, fake.items[23:])

	for i, q := range fake.queries {
		first := i == 0
		if q.Has("sort") != first || q.Has("after") == first || q.Get("page_size") != "5" {
			t.Errorf("request %d: query %s, want page_size=5 and sort on the first, after on the others", i, q.Encode())
		}
	}
}

func checkOnceInOrder(tb testing.TB, ids []string, want []map[string]any) {
	tb.Helper()
	if len(ids) != len(want) {
		tb.Fatalf("got %d records, want %d", len(ids), len(want))
	}
	for i, it := range want {
		if ids[i] != it["token"] {
			tb.Errorf("record %d = %s, want %s", i, ids[i], it["token"])
		}
	}
}

// TestTypeformFullLastPage: a full page says there may be more, so a form
// whose responses fill the pages exactly ends with an empty one.
func TestTypeformFullLastPage(t *testing.T) {
	fake := &fakeTypeform{formID: testForm, token: testToken}
	fake.add(10)
	src := typeformFor(t, fake, Options{})
	var cursor string
	for i, want := range []struct {
		n    int
		more bool
	}{{5, true}, {5, true}, {0, false}} {
		page, err := src.Fetch(context.Background(), Request{Cursor: cursor, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != want.n || page.HasMore != want.more {
			t.Fatalf("page %d: %d records, more %v; want %d, %v", i, len(page.Records), page.HasMore, want.n, want.more)
		}
		if want.n == 0 && page.Next != cursor {
			t.Errorf("empty page moved the cursor from %q to %q", cursor, page.Next)
		}
		cursor = page.Next
	}
}

func TestTypeformMapsRecords(t *testing.T) {
	fake := &fakeTypeform{formID: testForm, token: testToken}
	fake.add(1)
	page, err := typeformFor(t, fake, Options{}).Fetch(context.Background(), Request{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 {
		t.Fatalf("got %d records, want 1", len(page.Records))
	}
	got := page.Records[0]
	want := Record{
		ProviderID: fake.items[0]["token"].(string),
		Survey:     testForm,
		Text:       "respondent 1",
		Device:     "iOS",
		Location:   "Germany",
		Answers:    json.RawMessage(`{"WOTdC00F8A3h":1,"color":"Blue","name":"respondent 1"}`),
		CreatedAt:  fakeEpoch.Add(time.Second),
	}
	if got.ProviderID != want.ProviderID || got.Survey != want.Survey || got.Text != want.Text || got.Device != want.Device ||
		got.Location != want.Location || string(got.Answers) != string(want.Answers) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("record = %+v\nwant     %+v", got, want)
	}
	if page.Next != want.ProviderID || page.HasMore {
		t.Errorf("next %q more %v, want %q false", page.Next, page.HasMore, want.ProviderID)
	}
}

func TestTypeformRequest(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want url.Values
	}{
		{"first page", Request{}, url.Values{"page_size": {"100"}, "sort": {"submitted_at,asc"}}},
		{"after token", Request{Cursor: "abc", Limit: 50}, url.Values{"page_size": {"50"}, "after": {"abc"}}},
		{"rescan ignored", Request{Cursor: "abc", Rescan: true, Limit: 1}, url.Values{"page_size": {"1"}, "after": {"abc"}}},
		{"page size capped", Request{Limit: 5000}, url.Values{"page_size": {"1000"}, "sort": {"submitted_at,asc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			src := typeformFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				canned(200, nil, `{"total_items":0,"page_count":0,"items":[]}`)(w, r)
			}), Options{})
			if _, err := src.Fetch(context.Background(), tt.req); err != nil {
				t.Fatal(err)
			}
			if got.URL.Path != "/forms/"+testForm+"/responses" {
				t.Errorf("path = %s", got.URL.Path)
			}
			if q := got.URL.Query(); q.Encode() != tt.want.Encode() {
				t.Errorf("query = %s, want %s", q.Encode(), tt.want.Encode())
			}
			if a := got.Header.Get("Authorization"); a != "Bearer "+testToken {
				t.Errorf("Authorization = %q", a)
			}
		})
	}
}

// TestFakeTypeform checks the fake against the documented behaviour the
// contract tests rely on.
func TestFakeTypeform(t *testing.T) {
	fake := &fakeTypeform{formID: testForm, token: testToken}
	fake.add(5) // submitted at fakeEpoch + 1s .. + 5s
	tok := func(i int) string { return fake.items[i-1]["token"].(string) }
	tests := []struct {
		query  string
		status int
		want   []string
	}{
		{"", 200, []string{tok(5), tok(4), tok(3), tok(2), tok(1)}},
		{"page_size=2", 200, []string{tok(5), tok(4)}},
		{"sort=submitted_at,asc&page_size=2", 200, []string{tok(1), tok(2)}},
		{"after=" + tok(2), 200, []string{tok(3), tok(4), tok(5)}},
		{"after=" + tok(2) + "&page_size=1", 200, []string{tok(3)}},
		{"before=" + tok(3), 200, []string{tok(1), tok(2)}},
		{"since=2026-02-01T09:00:02&until=2026-02-01T09:00:03&sort=submitted_at,asc", 200, []string{tok(2), tok(3)}},
		{"since=1769936404", 200, []string{tok(5), tok(4)}},
		{"after=" + tok(2) + "&sort=submitted_at,asc", 400, nil},
		{"page_size=1001", 400, nil},
		{"since=yesterday", 400, nil},
		{"after=nope", 400, nil},
		{"completed=true", 400, nil},
	}
	srv := newServer(t, fake)
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/forms/"+testForm+"/responses?"+tt.query, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Items []struct{ Token string } `json:"items"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		var got []string
		for _, it := range body.Items {
			got = append(got, it.Token)
		}
		if resp.StatusCode != tt.status || len(got) != len(tt.want) {
			t.Errorf("?%s: %d %d items, want %d %d items", tt.query, resp.StatusCode, len(got), tt.status, len(tt.want))
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("?%s: item %d = %s, want %s", tt.query, i, got[i], tt.want[i])
			}
		}
	}
}
