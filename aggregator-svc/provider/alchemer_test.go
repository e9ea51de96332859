package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testSecret is the api_token_secret the fake wants; nothing may show it.
const testSecret = "sec-Qm4zR8wLp2-secret"

// alchemerFixture is a fake Alchemer survey and a source that syncs it.
type alchemerFixture struct {
	fake  *fakeAlchemer
	srv   *httptest.Server
	src   *alchemerSource
	store map[string]Record // what the aggregate would hold
	// fetches counts Fetch calls.
	fetches int
}

func newAlchemerFixture(t *testing.T, opts Options) *alchemerFixture {
	t.Helper()
	fake := newFakeAlchemer("123456")
	srv := newServer(t, fake)
	fx := &alchemerFixture{fake: fake, srv: srv, store: map[string]Record{}}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: QueryAuthTransport(srv.Client().Transport)}
	}
	opts.Credential = boundTo(t, srv.URL, testToken+":"+testSecret)
	opts.Now = func() time.Time {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return fake.now
	}
	src, err := New("survey", Descriptor{URL: srv.URL + "/v5/survey/123456", Dialect: DialectAlchemer}, opts)
	if err != nil {
		t.Fatal(err)
	}
	fx.src = src.(*alchemerSource)
	// Waiting (for the limiter, a Retry-After) moves the fake's clock.
	fx.src.sleep = func(ctx context.Context, d time.Duration) error {
		fake.advance(d)
		return ctx.Err()
	}
	return fx
}

// round runs one sync round from cursor as the syncer does, storing what
// it fetches, and returns the new cursor.
func (fx *alchemerFixture) round(t *testing.T, cursor string, limit int) string {
	t.Helper()
	for rescan := true; ; rescan = false {
		page, err := fx.src.Fetch(t.Context(), Request{Cursor: cursor, Rescan: rescan, Limit: limit})
		fx.fetches++
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for _, r := range page.Records {
			fx.store[r.ProviderID] = r
		}
		cursor = page.Next
		if !page.HasMore {
			return cursor
		}
	}
}

func (fx *alchemerFixture) requests() int {
	fx.fake.mu.Lock()
	defer fx.fake.mu.Unlock()
	return fx.fake.requests
}

// checkStore checks that the store holds every visible, stored response
// of the fake in its latest version, and nothing else.
func (fx *alchemerFixture) checkStore(t *testing.T) {
	t.Helper()
	fx.fake.mu.Lock()
	defer fx.fake.mu.Unlock()
	want := 0
	for id, it := range fx.fake.items {
		if it.test || it.status == "Disqualified" || it.visibleAt.After(fx.fake.now) {
			continue
		}
		want++
		got, ok := fx.store[strconv.Itoa(id)]
		switch {
		case !ok:
			t.Errorf("response %d (updated %v) never stored", id, it.updated)
		case !strings.Contains(got.Text, it.answer):
			t.Errorf("response %d stored as %q, latest is %q", id, got.Text, it.answer)
		}
	}
	if len(fx.store) != want {
		t.Errorf("store holds %d responses, want %d", len(fx.store), want)
	}
}

// TestAlchemerBacklogAndIdleRounds: a 1,000-response backlog is synced
// completely; an idle round costs one request, or none when it repeats
// the last one within Alchemer's 60 s repeat window; none moves the
// cursor.
func TestAlchemerBacklogAndIdleRounds(t *testing.T) {
	fx := newAlchemerFixture(t, Options{})
	for i := range 1000 {
		fx.fake.add(1)
		if i%3 == 0 { // three responses a second: seconds collide
			fx.fake.advance(time.Second)
		}
	}
	// Older than a round's overlap: the idle rounds below read an empty
	// window. (A window of more responses than a cursor remembers, 96,
	// costs their sending again until the window has moved past them.)
	fx.fake.advance(10 * time.Minute)
	cursor := fx.round(t, "", AlchemerMaxPageSize)
	fx.checkStore(t)
	backlog, fetches := fx.requests(), fx.fetches
	t.Logf("1,000-response backlog at resultsperpage=500: %d requests to Alchemer, %d fetches", backlog, fetches)

	for _, tt := range []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{"first after the backlog", 10 * time.Second, 1},
		{"again within Alchemer's repeat window", 10 * time.Second, 0},
		{"after it", 61 * time.Second, 1},
	} {
		fx.fake.advance(tt.advance)
		before := fx.requests()
		page, err := fx.src.Fetch(t.Context(), Request{Cursor: cursor, Rescan: true, Limit: AlchemerMaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		n := fx.requests() - before
		t.Logf("idle round %s: %d requests", tt.name, n)
		if n != tt.want || len(page.Records) != 0 || page.HasMore || page.Next != cursor {
			t.Errorf("idle round %s: %d requests, %d records, has_more %v, cursor moved %v; want %d requests and nothing",
				tt.name, n, len(page.Records), page.HasMore, page.Next != cursor, tt.want)
		}
	}
	// A new response after that is found by the next round.
	fx.fake.advance(61 * time.Second)
	fx.fake.add(1)
	fx.round(t, cursor, AlchemerMaxPageSize)
	fx.checkStore(t)
}

// lateChanges is what happens at Alchemer between two page requests of a
// walk: the oldest response is updated (it moves to the end, and everyone
// behind it up a place), the response last updated is updated again in
// the same second, and a new one arrives in that second too.
func lateChanges(f *fakeAlchemer, q url.Values) {
	if f.requests < 2 || f.requests > 6 {
		return
	}
	oldest, newest := 0, 0
	for id, it := range f.items {
		if oldest == 0 || it.updated.Before(f.items[oldest].updated) || (it.updated.Equal(f.items[oldest].updated) && id < oldest) {
			oldest = id
		}
		if newest == 0 || it.updated.After(f.items[newest].updated) || (it.updated.Equal(f.items[newest].updated) && id > newest) {
			newest = id
		}
	}
	f.updateLocked(newest, "") // the same second as before: a collision
	f.now = f.now.Add(time.Second)
	f.updateLocked(oldest, "")
	f.addLocked(1, 0)
}

// TestAlchemerLateUpdates: responses updated and added while a walk
// pages, in colliding seconds, are all stored in their latest version;
// the naive walk page=1, 2, ... over the same changes misses some.
func TestAlchemerLateUpdates(t *testing.T) {
	const n, size = 230, 50
	setup := func(fx *alchemerFixture) {
		for range n {
			fx.fake.add(1)
			fx.fake.advance(300 * time.Millisecond)
		}
		fx.fake.advance(time.Minute)
		fx.fake.mu.Lock()
		fx.fake.requests = 0
		fx.fake.beforeAnswer = lateChanges
		fx.fake.mu.Unlock()
	}

	fx := newAlchemerFixture(t, Options{})
	setup(fx)
	// One round, without the next one's overlap: the walk alone must not
	// skip.
	fx.round(t, "", size)
	fx.checkStore(t)
	t.Logf("walk by date_updated: %d requests for %d responses and their changes", fx.requests(), len(fx.store))

	naive := newAlchemerFixture(t, Options{})
	setup(naive)
	missed, stale := naiveWalk(t, naive, size)
	t.Logf("naive page=N walk over the same changes: %d responses never seen, %d seen only in an old version", missed, stale)
	if missed == 0 {
		t.Errorf("the naive walk missed nothing: the scenario does not test what it should")
	}
}

// naiveWalk pages page=1, 2, ... over all responses in date_updated order,
// as Alchemer's page numbers invite, and counts the responses it never
// saw and those it saw only in an older version.
func naiveWalk(t *testing.T, fx *alchemerFixture, size int) (missed, stale int) {
	t.Helper()
	seen := map[string]string{}
	for page := 1; ; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "resultsperpage": {strconv.Itoa(size)}, "order_by": {"date_updated"},
			"api_token": {testToken}, "api_token_secret": {testSecret}}
		resp, err := fx.srv.Client().Get(fx.srv.URL + "/v5/survey/123456/surveyresponse?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, err := decodeAlchemerPage(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range body.Data {
			it, err := parseAlchemerResponse(raw, "123456")
			if err != nil {
				t.Fatal(err)
			}
			seen[it.record.ProviderID] = it.record.Text
		}
		if page >= int(body.TotalPages) {
			break
		}
	}
	fx.fake.mu.Lock()
	defer fx.fake.mu.Unlock()
	for id, it := range fx.fake.items {
		text, ok := seen[strconv.Itoa(id)]
		switch {
		case !ok:
			missed++
		case !strings.Contains(text, it.answer):
			stale++
		}
	}
	return missed, stale
}

// TestAlchemerSameSecondUpdate: a response read and then updated again
// within the same second keeps its id and date_updated; the next round
// still stores the new version (the cursor tells versions by their hash,
// not by their second).
func TestAlchemerSameSecondUpdate(t *testing.T) {
	fx := newAlchemerFixture(t, Options{})
	fx.fake.add(3)
	fx.fake.advance(time.Minute)
	cursor := fx.round(t, "", 100)
	x := fx.fake.add(1)[0] // at the second N, read at N
	cursor = fx.round(t, cursor, 100)
	fx.fake.mu.Lock()
	fx.fake.updateLocked(x, "") // still N
	fx.fake.mu.Unlock()
	// Read past Alchemer's repeat window, which would answer from its
	// cache (as the adapter does itself).
	fx.fake.advance(61 * time.Second)
	fx.round(t, cursor, 100)
	fx.checkStore(t)
}

// TestAlchemerLateVisibility: a response that becomes visible minutes
// after its date_updated, once the walk has passed that second, is found
// by a later round.
func TestAlchemerLateVisibility(t *testing.T) {
	fx := newAlchemerFixture(t, Options{})
	fx.fake.add(5)
	fx.fake.advance(time.Second)
	cursor := fx.round(t, "", 100)

	fx.fake.mu.Lock()
	late := fx.fake.addLocked(1, 4*time.Minute)[0] // processed for 4 minutes
	fx.fake.mu.Unlock()
	for range 5 { // rounds that pass its second and send others
		fx.fake.advance(61 * time.Second)
		fx.fake.add(1)
		cursor = fx.round(t, cursor, 100)
	}
	if _, ok := fx.store[strconv.Itoa(late)]; !ok {
		t.Errorf("response %d, visible 4 minutes after its date_updated, never stored", late)
	}
	fx.checkStore(t)
}

// TestAlchemerAcrossDST: responses written every 30 s for 100 minutes
// while the account's clock springs forward (02:00 EST becomes 03:00 EDT),
// synced every two minutes, are all stored.
func TestAlchemerAcrossDST(t *testing.T) {
	fx := newAlchemerFixture(t, Options{})
	fx.fake.now = time.Date(2026, 3, 8, 6, 40, 0, 0, time.UTC) // 01:40 EST
	cursor := ""
	for i := range 200 {
		fx.fake.add(1)
		fx.fake.advance(30 * time.Second)
		if i%4 == 3 {
			cursor = fx.round(t, cursor, 10)
		}
	}
	fx.checkStore(t)
	if !strings.Contains(fmt.Sprint(fx.fake.queries), "2026-03-08 04:") {
		t.Errorf("no filter value after the change: %v", fx.fake.queries[len(fx.fake.queries)-1])
	}
}

// TestAlchemerStatuses: test data and disqualified responses are not
// stored; a partial response completed later is updated in place.
func TestAlchemerStatuses(t *testing.T) {
	fx := newAlchemerFixture(t, Options{})
	fx.fake.mu.Lock()
	ids := fx.fake.addLocked(4, 0)
	fx.fake.items[ids[0]].test = true
	fx.fake.items[ids[1]].status = "Disqualified"
	fx.fake.items[ids[2]].status = "Partial"
	fx.fake.mu.Unlock()
	fx.fake.advance(time.Second)
	cursor := fx.round(t, "", 100)
	if len(fx.store) != 2 {
		t.Fatalf("stored %d responses, want the partial and the complete one", len(fx.store))
	}
	fx.fake.advance(61 * time.Second)
	fx.fake.mu.Lock()
	fx.fake.updateLocked(ids[2], "Complete")
	fx.fake.mu.Unlock()
	fx.round(t, cursor, 100)
	fx.checkStore(t)
	r := fx.store[strconv.Itoa(ids[3])]
	if r.Device != "Android" || r.Location != "United States" || r.Survey != "123456" ||
		string(r.Answers) != `{"2":"Blue","3":"answer 4","4":["Red","Green"]}` || r.Text != "answer 4" {
		t.Errorf("record = %+v", r)
	}
}

func TestAlchemerNew(t *testing.T) {
	cred := func(raw, tok string) Credential { return boundTo(t, raw, tok) }
	for _, tt := range []struct {
		name, url, token, want string
	}{
		{"not a survey", "https://api.alchemer.com/v5/survey", "a:b", "want an alchemer survey url"},
		{"v4", "https://api.alchemer.com/v4/survey/123", "a:b", "want an alchemer survey url"},
		{"survey id not a number", "https://api.alchemer.com/v5/survey/abc", "a:b", "want an alchemer survey url"},
		{"plain http", "http://api.alchemer.com/v5/survey/123", "a:b", "https required"},
		{"no secret", "https://api.alchemer.com/v5/survey/123", "a", "token and its secret"},
		{"no token", "https://api.alchemer.com/v5/survey/123", "", "token and its secret"},
	} {
		_, err := New("s", Descriptor{URL: tt.url, Dialect: DialectAlchemer}, Options{Credential: cred(tt.url, tt.token)})
		if !errors.Is(err, ErrInvalidDescriptor) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	for _, host := range []string{"api.alchemer.com", "api.alchemer.eu", "api.alchemer.ca", "api.alchemer-ca.com"} {
		u := "https://" + host + "/v5/survey/123456"
		if _, err := New("s", Descriptor{URL: u, Dialect: DialectAlchemer}, Options{Credential: cred(u, "a:b")}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	// The credential follows the descriptor only to its URL.
	u := "https://api.alchemer.com/v5/survey/123456"
	if _, err := New("s", Descriptor{URL: "https://evil.example/v5/survey/123456", Dialect: DialectAlchemer}, Options{Credential: cred(u, "a:b")}); err == nil {
		t.Error("a credential bound to api.alchemer.com was accepted for another host")
	}
}

func TestAlchemerTimes(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"2018-08-07 13:29:30 EDT", "2018-08-07T17:29:30Z"},
		{"2018-12-07 13:29:30 EST", "2018-12-07T18:29:30Z"},
		{"2018-12-07 13:29:30 UTC", "2018-12-07T13:29:30Z"},
		{"2018-12-07 13:29:30 GMT -5", "2018-12-07T18:29:30Z"},
		{"2018-08-07 13:29:30 GMT-4", "2018-08-07T17:29:30Z"},
		{"2018-08-07 13:29:30 PDT", "2018-08-07T20:29:30Z"},
		{"2018-08-07 13:29:30 GMT+05:30", "2018-08-07T07:59:30Z"},
		// Spring forward, 2026-03-08: 01:59:59 EST is followed by 03:00:00 EDT.
		{"2026-03-08 01:59:59 EST", "2026-03-08T06:59:59Z"},
		{"2026-03-08 03:00:00 EDT", "2026-03-08T07:00:00Z"},
		// Fall back, 2026-11-01: 01:30 happens twice; the abbreviation tells which.
		{"2026-11-01 01:30:00 EDT", "2026-11-01T05:30:00Z"},
		{"2026-11-01 01:30:00 EST", "2026-11-01T06:30:00Z"},
	} {
		got, _, err := parseAlchemerTime(tt.in)
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("parse %q = %v, %v; want %s", tt.in, got.Format(time.RFC3339), err, tt.want)
		}
	}
	for _, in := range []string{"2018-08-07 13:29:30 CEST", "2018-08-07 13:29:30", "2018-08-07T13:29:30Z", "2018-08-07 13:29:30 GMT+99", ""} {
		if _, _, err := parseAlchemerTime(in); err == nil {
			t.Errorf("parse %q: no error", in)
		}
	}
	if _, region, _ := parseAlchemerTime("2018-12-07 13:29:30 GMT -5"); region != defaultAlchemerRegion {
		t.Errorf("GMT -5 is Alchemer's EST: region %q, want %s", region, defaultAlchemerRegion)
	}
	if _, _, err := parseAlchemerTime("2018-08-07 13:29:30 CEST"); err == nil || !strings.Contains(err.Error(), `unknown time zone "CEST"`) {
		t.Errorf("unknown zone: err = %v", err)
	}
	// Filter values go back on the account's wall clock; near a change of
	// offset an hour earlier, never later.
	for _, tt := range []struct {
		at, want string
	}{
		{"2026-07-01T12:00:00Z", "2026-07-01 08:00:00"},
		{"2026-01-01T12:00:00Z", "2026-01-01 07:00:00"},
		// 01:30 EDT: 01:30 could be read as EST, an hour late; 00:30 cannot.
		{"2026-11-01T05:30:00Z", "2026-11-01 00:30:00"},
		// 01:30 EST: an hour earlier is 01:30 EDT, which either reading keeps at or before it.
		{"2026-11-01T06:30:00Z", "2026-11-01 01:30:00"},
		// 03:00 EDT, just after 02:00 EST became 03:00 EDT: 01:00 EST.
		{"2026-03-08T07:00:00Z", "2026-03-08 01:00:00"},
	} {
		at, _ := time.Parse(time.RFC3339, tt.at)
		if got, _ := formatAlchemerFilter(at, defaultAlchemerRegion, 0); got != tt.want {
			t.Errorf("filter value of %s = %s, want %s", tt.at, got, tt.want)
		}
	}
}

func TestAlchemerCursorRoundTrip(t *testing.T) {
	c := alchemerCursor{Restart: 1_700_000_000, Start: 1_700_000_500, Lower: 1_700_000_100, Page: 3, Sent: true, Zone: -1, Offset: -18000}
	for i := range 2 * maxAlchemerSeen {
		c.remember(alchemerSeen{ID: uint64(1000 + i), Updated: 1_700_000_000 + int64(i), Hash: uint32(i * 7919)})
	}
	s := c.encode()
	if len(s) > MaxCursorLen {
		t.Fatalf("cursor of %d bytes, over %d", len(s), MaxCursorLen)
	}
	got, err := decodeAlchemerCursor(s)
	if err != nil || got.encode() != s || len(got.Seen) != maxAlchemerSeen || got.Seen[0].ID != 1000+maxAlchemerSeen {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	// Ids far apart take more room: the oldest are forgotten until it fits.
	far := alchemerCursor{Restart: 1_700_000_000}
	for i := range maxAlchemerSeen {
		far.remember(alchemerSeen{ID: uint64(i+1) * 1_000_000_007_000, Updated: 1_700_000_000 + int64(i)*1000, Hash: uint32(i)})
	}
	fs := far.encode()
	got, err = decodeAlchemerCursor(fs)
	if len(fs) > MaxCursorLen || err != nil || len(got.Seen) == 0 || len(got.Seen) == maxAlchemerSeen ||
		got.Seen[len(got.Seen)-1].ID != uint64(maxAlchemerSeen)*1_000_000_007_000 {
		t.Errorf("far-apart ids: cursor of %d bytes, %d remembered, %v", len(fs), len(got.Seen), err)
	}
	for _, bad := range []string{"x", "al1.!!", "al1." + strings.Repeat("A", 40), testCursor} {
		if _, err := decodeAlchemerCursor(bad); err == nil {
			t.Errorf("decode %q: no error", bad)
		}
	}
}

// TestAlchemerErrors: what the adapter does with each kind of bad answer.
func TestAlchemerErrors(t *testing.T) {
	ok := func(data string) string {
		return `{"result_ok":true,"total_count":1,"page":1,"total_pages":1,"results_per_page":50,"data":[` + data + `]}`
	}
	item := func(zone string) string {
		return `{"id":"1","status":"Complete","is_test_data":"0","date_submitted":"2026-01-01 10:00:00 EST","date_updated":"2026-01-01 10:00:00 ` + zone + `","survey_data":[]}`
	}
	for _, tt := range []struct {
		name    string
		h       http.Handler
		max     int64
		timeout time.Duration
		want    error
		detail  string
	}{
		{"result_ok false", canned(200, nil, `{"result_ok":false,"code":400,"message":"Invalid filter"}`), 0, 0, ErrRejected, "Invalid filter"},
		{"auth refused", canned(401, nil, `{"result_ok":false,"message":"Authentication failed"}`), 0, 0, ErrUnauthorized, "status 401"},
		{"auth refused in a 200", canned(200, nil, `{"result_ok":false,"message":"Authentication failed for api_token `+testToken+`"}`), 0, 0, ErrUnauthorized, "Authentication failed"},
		{"no result_ok", canned(200, nil, `{"page":1,"data":[]}`), 0, 0, ErrBadPage, "result_ok: required"},
		{"malformed", canned(200, nil, `{"result_ok":true,"data":[`), 0, 0, ErrBadPage, "truncated JSON"},
		{"mistyped field", canned(200, nil, ok(`{"id":"1","status":7}`)), 0, 0, ErrBadPage, "status"},
		{"bad id", canned(200, nil, ok(`{"id":"x1","date_updated":"2026-01-01 10:00:00 EST"}`)), 0, 0, ErrBadPage, "id: want a positive integer"},
		{"unknown zone", canned(200, nil, ok(item("CEST"))), 0, 0, ErrBadPage, `unknown time zone "CEST"`},
		{"wrong page", canned(200, nil, `{"result_ok":true,"page":2,"total_pages":2,"data":[]}`), 0, 0, ErrBadPage, "page: got 2"},
		{"server error", canned(500, nil, `<html>timeout</html>`), 0, 0, ErrUnavailable, "status 500"},
		{"huge page", endlessPage(`{"result_ok":true,"page":1,"total_pages":1,"data":[`, func(int) string { return item("EST") }, 1<<20, `]}`), 64 << 10, 0, ErrBadPage, "larger than"},
		{"slow page", stall(t, `{"result_ok":true,`), 0, 200 * time.Millisecond, context.DeadlineExceeded, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.h)
			src := newTestAlchemer(t, srv, Options{MaxPageBytes: tt.max})
			timeout := cmpOr(tt.timeout, 5*time.Second)
			page, err := fetchWithin(src, timeout, Request{Limit: 50, Rescan: true})
			checkFetchError(t, "survey", page, err, tt.want)
			checkNoAlchemerSecrets(t, err.Error())
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("err = %q, want it to say %q", err, tt.detail)
			}
		})
	}
}

// TestAlchemerListedTwice: a response a page lists twice is stored once,
// as listed last; the aggregate refuses a page that names an id twice.
func TestAlchemerListedTwice(t *testing.T) {
	item := func(answer string) string {
		return `{"id":"9","status":"Complete","date_submitted":"2026-01-01 10:00:00 EST","date_updated":"2026-01-01 10:00:00 EST",` +
			`"survey_data":{"3":{"id":3,"type":"ESSAY","question":"Why?","answer":"` + answer + `"}}}`
	}
	srv := newServer(t, canned(200, nil, `{"result_ok":true,"total_count":2,"page":1,"total_pages":1,"results_per_page":50,"data":[`+item("old")+`,`+item("new")+`]}`))
	page, err := fetchWithin(newTestAlchemer(t, srv, Options{}), 5*time.Second, Request{Rescan: true, Limit: 50})
	if err != nil || len(page.Records) != 1 || page.Records[0].Text != "new" {
		t.Fatalf("page %+v, %v; want response 9 once, as listed last", page.Records, err)
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// newTestAlchemer is an alchemer source for srv, with the test credential.
func newTestAlchemer(t *testing.T, srv *httptest.Server, opts Options) *alchemerSource {
	t.Helper()
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: QueryAuthTransport(srv.Client().Transport)}
	}
	opts.Credential = boundTo(t, srv.URL, testToken+":"+testSecret)
	s, err := New("survey", Descriptor{URL: srv.URL + "/v5/survey/123456", Dialect: DialectAlchemer}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*alchemerSource)
}

func checkNoAlchemerSecrets(tb testing.TB, s string) {
	tb.Helper()
	for _, secret := range []string{testToken, testSecret, url.QueryEscape(testSecret), "api_token="} {
		if strings.Contains(s, secret) {
			tb.Errorf("%q shows %q", s, secret)
		}
	}
}

// TestAlchemerRateLimits: a 429 with Retry-After is waited out within the
// deadline; one without, or with a wait past the deadline, fails the
// fetch and keeps the source from asking again until the wait is over:
// no loop of requests.
func TestAlchemerRateLimits(t *testing.T) {
	t.Run("retry after within the deadline", func(t *testing.T) {
		fx := newAlchemerFixture(t, Options{})
		fx.fake.add(3)
		fx.fake.advance(time.Second)
		var slept []time.Duration
		fx.src.sleep = func(ctx context.Context, d time.Duration) error {
			slept = append(slept, d)
			fx.fake.advance(d)
			return nil
		}
		first := true
		fx.fake.beforeAnswer = nil
		inner := fx.srv.Config.Handler
		fx.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if first {
				first = false
				w.Header().Set("Retry-After", "7")
				canned(429, nil, `{"result_ok":false,"message":"You have exceeded your requests per minute"}`)(w, r)
				return
			}
			inner.ServeHTTP(w, r)
		})
		page, err := fetchWithin(fx.src, time.Minute, Request{Rescan: true, Limit: 50})
		if err != nil || len(page.Records) != 3 {
			t.Fatalf("after a 429 with Retry-After: %d records, %v", len(page.Records), err)
		}
		if len(slept) != 1 || slept[0] != 7*time.Second {
			t.Errorf("slept %v, want the 7s Retry-After once", slept)
		}
	})
	t.Run("no retry after, short deadline", func(t *testing.T) {
		calls := 0
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			canned(429, nil, `{"result_ok":false,"message":"Please wait for other requests to complete."}`)(w, r)
		}))
		src := newTestAlchemer(t, srv, Options{})
		src.sleep = func(context.Context, time.Duration) error { t.Error("slept past the deadline"); return nil }
		for range 3 {
			page, err := fetchWithin(src, 500*time.Millisecond, Request{Rescan: true, Limit: 50})
			checkFetchError(t, "survey", page, err, ErrRateLimited)
		}
		if calls != 1 {
			t.Errorf("%d requests for three fetches after a 429, want 1", calls)
		}
	})
	t.Run("shared limiter", func(t *testing.T) {
		// Two surveys of one account share a limiter: the second's request
		// waits for the slot the first took.
		lim := NewAlchemerLimiter()
		a := newAlchemerFixture(t, Options{Limiter: lim})
		b := newAlchemerFixture(t, Options{Limiter: lim})
		var waited time.Duration
		b.src.now = a.src.now
		b.src.sleep = func(ctx context.Context, d time.Duration) error { waited += d; a.fake.advance(d); return nil }
		a.round(t, "", 50)
		b.round(t, "", 50)
		if waited != time.Second/time.Duration(AlchemerRate) {
			t.Errorf("the second survey waited %v, want one slot of %v", waited, time.Second/time.Duration(AlchemerRate))
		}
	})
}
