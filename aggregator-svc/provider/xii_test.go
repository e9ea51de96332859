package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func xiiFor(tb testing.TB, h http.Handler, opts Options) Source {
	tb.Helper()
	srv := newServer(tb, h)
	if opts.Credential.Token == "" {
		opts.Credential = boundTo(tb, srv.URL, testToken)
	}
	return newSource(tb, srv, "blue", Descriptor{URL: srv.URL, Dialect: DialectXII}, opts)
}

func TestXIIPagesToTheEnd(t *testing.T) {
	fake := &fakeXII{token: testToken}
	fake.add(25, false)
	src := xiiFor(t, fake, Options{})

	seen := map[string]int{}
	req := Request{Rescan: true, Limit: 7}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("no end after 10 pages")
		}
		page, err := src.Fetch(context.Background(), req)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, r := range page.Records {
			seen[r.ProviderID]++
		}
		if !page.HasMore {
			break
		}
		req = Request{Cursor: page.Next, Limit: 7}
	}
	if len(seen) != 25 {
		t.Errorf("saw %d records, want 25", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %s seen %d times", id, n)
		}
	}
	if got := len(fake.queries); got != 4 {
		t.Errorf("%d requests, want 4", got)
	}
}

func TestXIIMapsRecords(t *testing.T) {
	body := `{"data":[
		{"id":7,"survey":"nps","text":"great","device":"iOS","location":"Germany","answers":{"score":9},"created_at":"2026-03-01T10:00:00.5Z"},
		{"id":8,"survey":"nps","text":"meh","device":"web","location":"France","answers":null,"created_at":"2026-03-01T10:00:01Z"},
		{"id":9,"survey":"nps","text":"","device":"web","location":"France","created_at":"2026-03-01T10:00:02Z"}
	],"next_cursor":"c9","has_more":true}`
	page, err := xiiFor(t, canned(200, nil, body), Options{}).Fetch(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{ProviderID: "7", Survey: "nps", Text: "great", Device: "iOS", Location: "Germany", Answers: json.RawMessage(`{"score":9}`), CreatedAt: time.Date(2026, 3, 1, 10, 0, 0, 5e8, time.UTC)},
		{ProviderID: "8", Survey: "nps", Text: "meh", Device: "web", Location: "France", CreatedAt: time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC)},
		{ProviderID: "9", Survey: "nps", Device: "web", Location: "France", CreatedAt: time.Date(2026, 3, 1, 10, 0, 2, 0, time.UTC)},
	}
	if page.Next != "c9" || !page.HasMore || len(page.Records) != len(want) {
		t.Fatalf("page = %+v", page)
	}
	for i, got := range page.Records {
		w := want[i]
		if got.ProviderID != w.ProviderID || got.Survey != w.Survey || got.Text != w.Text || got.Device != w.Device ||
			got.Location != w.Location || string(got.Answers) != string(w.Answers) || !got.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("record %d = %+v, want %+v", i, got, w)
		}
	}
}

// TestXIIRescan follows survey-svc's cursor through a late commit: the
// pending row is delivered again until it is final, and a rescan may end
// on the very cursor it started from while still making progress.
func TestXIIRescan(t *testing.T) {
	fake := &fakeXII{token: testToken}
	fake.add(2, false)
	fake.add(1, true) // id 3 commits late
	fake.add(2, false)
	src := xiiFor(t, fake, Options{})
	ctx := context.Background()

	fetch := func(req Request, wantIDs string, wantMore bool) Page {
		t.Helper()
		page, err := src.Fetch(ctx, req)
		if err != nil {
			t.Fatalf("Fetch(%+v): %v", req, err)
		}
		var ids []string
		for _, r := range page.Records {
			ids = append(ids, r.ProviderID)
		}
		if got := strings.Join(ids, ","); got != wantIDs || page.HasMore != wantMore {
			t.Fatalf("Fetch(%+v) = ids %q more %v, want %q %v", req, got, page.HasMore, wantIDs, wantMore)
		}
		return page
	}
	frozen := fetch(Request{Rescan: true, Limit: 4}, "1,2,3,4", true)
	again := fetch(Request{Cursor: frozen.Next, Rescan: true, Limit: 2}, "3,4", true)
	if again.Next != frozen.Next {
		t.Fatalf("rescan cursor = %q, want the unchanged %q", again.Next, frozen.Next)
	}
	end := fetch(Request{Cursor: again.Next, Limit: 10}, "5", false)
	fake.settle()
	fetch(Request{Cursor: end.Next, Rescan: true, Limit: 10}, "3,4,5", false)
}

func TestXIIRequest(t *testing.T) {
	tests := []struct {
		name     string
		req      Request
		token    string
		want     url.Values
		wantAuth string
	}{
		{"first page", Request{}, testToken, url.Values{"limit": {"100"}}, "Bearer " + testToken},
		{"after cursor", Request{Cursor: "abc", Limit: 50}, testToken, url.Values{"after": {"abc"}, "limit": {"50"}}, "Bearer " + testToken},
		{"rescan", Request{Cursor: "abc", Rescan: true, Limit: 1}, testToken, url.Values{"after": {"abc"}, "rescan": {"true"}, "limit": {"1"}}, "Bearer " + testToken},
		{"limit capped", Request{Limit: 5000}, testToken, url.Values{"limit": {"1000"}}, "Bearer " + testToken},
		{"no token", Request{}, "", url.Values{"limit": {"100"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				canned(200, nil, `{"data":[],"next_cursor":"","has_more":false}`)(w, r)
			}))
			src := newSource(t, srv, "blue", Descriptor{URL: srv.URL + "/blue/", Dialect: DialectXII}, Options{Credential: boundTo(t, srv.URL, tt.token)})
			if _, err := src.Fetch(context.Background(), tt.req); err != nil {
				t.Fatal(err)
			}
			if got.Method != http.MethodGet || got.URL.Path != "/blue/api/v1/responses" {
				t.Errorf("request = %s %s, want GET /blue/api/v1/responses", got.Method, got.URL.Path)
			}
			if q := got.URL.Query(); q.Encode() != tt.want.Encode() {
				t.Errorf("query = %s, want %s", q.Encode(), tt.want.Encode())
			}
			if a := got.Header.Get("Authorization"); a != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", a, tt.wantAuth)
			}
		})
	}
}
