package aggregate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"xii/libs/xiiapi"
)

// fakeSyncer reports a fixed completeness and records the deadline it got.
type fakeSyncer struct {
	complete bool
	deadline time.Duration
}

func (f *fakeSyncer) Sync(ctx context.Context) SyncReport {
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	st := ProviderSync{Status: xiiapi.StatusOK}
	if !f.complete {
		st = ProviderSync{Status: xiiapi.StatusTimeout, Error: "not synced within the deadline"}
	}
	return SyncReport{Complete: f.complete, Providers: map[string]ProviderSync{"blue": st}}
}

// fakeReader answers from a fixed slice and records the last query.
type fakeReader struct {
	rows  []Response
	query Query
	stats StatsQuery
}

func (f *fakeReader) Query(_ context.Context, q Query) (ResultPage, error) {
	f.query = q
	if len(f.rows) > q.Limit {
		last := f.rows[q.Limit-1]
		return ResultPage{Responses: f.rows[:q.Limit], Next: &Key{CreatedAt: last.CreatedAt, Provider: last.Provider, ProviderID: last.ProviderID}}, nil
	}
	return ResultPage{Responses: f.rows}, nil
}

func (f *fakeReader) Stats(_ context.Context, q StatsQuery) (Stats, error) {
	f.stats = q
	return Stats{Groups: []Group{{Key: map[string]string{"device": "iOS"}, Count: 2}}, Total: 2}, nil
}

func (f *fakeReader) Ping(context.Context) error { return nil }

func newTestAPI(t *testing.T, complete bool) (*httptest.Server, *fakeSyncer, *fakeReader) {
	t.Helper()
	s := &fakeSyncer{complete: complete}
	r := &fakeReader{rows: []Response{
		{Provider: "blue", ProviderID: "2", Text: "b", Device: "iOS", Location: "Germany", CreatedAt: time.Unix(20, 0).UTC()},
		{Provider: "red", ProviderID: "1", Text: "a", Device: "iOS", Location: "Germany", CreatedAt: time.Unix(10, 0).UTC()},
	}}
	srv := httptest.NewServer(NewHTTPHandler(MakeEndpoints(NewService(s, r, nil)), "", slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv, s, r
}

func call(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestQueryRoute(t *testing.T) {
	srv, syncer, reader := newTestAPI(t, true)
	resp, body := call(t, "GET", srv.URL+"/api/v1/responses?device=iOS&location=Germany&limit=1&since=2026-01-01T00:00:00Z", nil)
	if resp.StatusCode != 200 || resp.Header.Get(SyncCompleteHeader) != "true" {
		t.Fatalf("status %d, %s=%q: %s", resp.StatusCode, SyncCompleteHeader, resp.Header.Get(SyncCompleteHeader), body)
	}
	var got xiiapi.ResponsesBody
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 1 || got.NextCursor == "" || got.Sync == nil || !got.Sync.Complete || got.Sync.Providers["blue"].Status != xiiapi.StatusOK {
		t.Fatalf("body %s", body)
	}
	f := reader.query.Filter
	if f.Device != "iOS" || f.Location != "Germany" || !f.Since.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || reader.query.Limit != 1 {
		t.Fatalf("reader got %+v", reader.query)
	}
	if syncer.deadline <= 0 || syncer.deadline > xiiapi.AggregatorDefaultTimeout {
		t.Fatalf("sync deadline %v, want within the default %v", syncer.deadline, xiiapi.AggregatorDefaultTimeout)
	}

	// The cursor resumes after the page's last row.
	call(t, "GET", srv.URL+"/api/v1/responses?limit=1&cursor="+got.NextCursor, nil)
	if k := reader.query.After; k == nil || k.Provider != "blue" || k.ProviderID != "2" {
		t.Fatalf("cursor decoded to %+v", k)
	}
}

func TestIncompleteSyncIsNotAnError(t *testing.T) {
	srv, syncer, _ := newTestAPI(t, false)
	resp, body := call(t, "GET", srv.URL+"/api/v1/responses", http.Header{"Request-Timeout": {"300ms"}})
	if resp.StatusCode != 200 || resp.Header.Get(SyncCompleteHeader) != "false" || !strings.Contains(body, `"status":"timeout"`) {
		t.Fatalf("status %d header %q body %s", resp.StatusCode, resp.Header.Get(SyncCompleteHeader), body)
	}
	if syncer.deadline > 300*time.Millisecond-20*time.Millisecond {
		t.Fatalf("sync got %v of a 300ms request: nothing held back for the read", syncer.deadline)
	}
}

func TestStatsAndSyncRoutes(t *testing.T) {
	srv, _, reader := newTestAPI(t, true)
	resp, body := call(t, "GET", srv.URL+"/api/v1/stats?group_by=device,location&provider=blue", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"total":2`) || resp.Header.Get(SyncCompleteHeader) != "true" {
		t.Fatalf("stats: %d %s", resp.StatusCode, body)
	}
	if g := reader.stats.GroupBy; len(g) != 2 || g[0] != "device" || g[1] != "location" || reader.stats.Filter.Provider != "blue" {
		t.Fatalf("reader got %+v", reader.stats)
	}
	resp, body = call(t, "GET", srv.URL+"/api/v1/stats?group_by=time,provider&interval=1h&top=24", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("stats by hour: %d %s", resp.StatusCode, body)
	}
	if q := reader.stats; !slices.Equal(q.GroupBy, []string{"time", "provider"}) || q.Interval != "1h" || q.Top != 24 {
		t.Fatalf("reader got %+v", q)
	}
	resp, body = call(t, "POST", srv.URL+"/api/v1/sync", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"complete":true`) {
		t.Fatalf("sync: %d %s", resp.StatusCode, body)
	}
}

func TestBadRequests(t *testing.T) {
	srv, _, _ := newTestAPI(t, true)
	for _, tt := range []struct {
		method, target string
		status         int
		inBody         string
	}{
		{"GET", "/api/v1/responses?colour=red", 400, "colour: unknown parameter"},
		{"GET", "/api/v1/responses?limit=0", 400, "limit: must be an integer"},
		{"GET", "/api/v1/responses?limit=5000", 400, "limit: must be an integer"},
		{"GET", "/api/v1/responses?since=yesterday", 400, "since: must be an RFC 3339 time"},
		{"GET", "/api/v1/responses?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", 400, "since: must be before until"},
		{"GET", "/api/v1/responses?cursor=nope", 400, "cursor: malformed"},
		{"GET", "/api/v1/responses?timeout=1h", 400, "timeout: 1h0m0s is longer than the maximum 30s"},
		{"GET", "/api/v1/responses?timeout=", 400, "timeout: must be a positive duration"},
		{"GET", "/api/v1/stats?group_by=", 400, "group_by: empty"},
		{"GET", "/api/v1/responses?cursor=", 400, "cursor: empty"},
		{"GET", "/api/v1/responses?timeout=1ms", 400, "timeout: 1ms is shorter than the minimum 10ms"},
		{"GET", "/api/v1/responses?device=a&device=b", 400, "device: given more than once"},
		{"GET", "/api/v1/responses?device=" + strings.Repeat("x", 129), 400, "device: longer than"},
		{"GET", "/api/v1/responses?device=" + strings.Repeat("x", 5000), 400, "query: longer than"},
		{"GET", "/api/v1/stats?group_by=colour", 400, `group_by: \"colour\" is not one of`},
		{"GET", "/api/v1/stats?group_by=device,device", 400, "given twice"},
		{"GET", "/api/v1/stats?group_by=time", 400, "interval: required with group_by=time"},
		{"GET", "/api/v1/stats?group_by=device&interval=1h", 400, "interval: only with group_by=time"},
		{"GET", "/api/v1/stats?group_by=time&interval=5m", 400, `interval: \"5m\" is not one of 1m, 1h, 1d`},
		{"GET", "/api/v1/stats?group_by=device&top=0", 400, "top: must be an integer between 1 and 1000"},
		{"GET", "/api/v1/stats?group_by=device&top=1001", 400, "top: must be an integer"},
		{"GET", "/api/v1/sync", 405, "method_not_allowed"},
		{"POST", "/api/v1/responses", 405, "method_not_allowed"},
		{"GET", "/nope", 404, "not_found"},
	} {
		resp, body := call(t, tt.method, srv.URL+tt.target, nil)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.inBody) {
			t.Errorf("%s %.60s: %d %s; want %d containing %q", tt.method, tt.target, resp.StatusCode, body, tt.status, tt.inBody)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	nul := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"2026-01-01T00:00:00Z","p":"a\u0000","i":"1"}`))
	offset := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"2026-01-01T00:00:00+23:59","p":"a","i":"1"}`))
	for _, s := range []string{"device=iOS&location=Germany&limit=50", "since=2026-01-01T00:00:00Z", "cursor=e30", "limit=-1", "%zz",
		"since=2026-01-01T00:00:00%2B23:59", "until=9999-12-31T23:59:59-23:59", "cursor=" + nul, "cursor=" + offset} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := xiiapi.ParseValues(raw, xiiapi.QueryParams)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil || q.Validate() != nil {
			return
		}
		if q.Limit < 0 || q.Limit > MaxLimit {
			t.Fatalf("accepted limit %d", q.Limit)
		}
		// What reaches the store is what it can hold: times in UTC, text
		// without NUL.
		for _, tm := range []time.Time{q.Filter.Since, q.Filter.Until} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Fatalf("accepted a time in %v", tm.Location())
			}
		}
		if q.After != nil {
			if q.After.CreatedAt.Location() != time.UTC || strings.ContainsRune(q.After.Provider+q.After.ProviderID, 0) ||
				!utf8.ValidString(q.After.Provider+q.After.ProviderID) {
				t.Fatalf("accepted cursor %+v", q.After)
			}
			if k, err := ParseKey(q.After.String()); err != nil || !k.CreatedAt.Equal(q.After.CreatedAt) {
				t.Fatalf("cursor does not round-trip: %v", err)
			}
		}
	})
}

// TestInternalToken: with a token set the API answers only a caller that
// sends it; the dashboard's token cannot be gone around through :1110.
func TestInternalToken(t *testing.T) {
	s, r := &fakeSyncer{complete: true}, &fakeReader{}
	srv := httptest.NewServer(NewHTTPHandler(MakeEndpoints(NewService(s, r, nil)), "internal-s3cret", slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		auth   string
		status int
	}{
		{"", 401},
		{"Bearer wrong", 401},
		{"Bearer internal-s3cret", 200},
		{"bearer internal-s3cret", 200},
	} {
		resp, body := call(t, "GET", srv.URL+"/api/v1/responses", http.Header{"Authorization": {tt.auth}})
		if resp.StatusCode != tt.status || (tt.status == 401 && !strings.Contains(body, `"code":"unauthorized"`)) {
			t.Errorf("Authorization %q: %d %s, want %d", tt.auth, resp.StatusCode, body, tt.status)
		}
	}
	if resp, _ := call(t, "POST", srv.URL+"/api/v1/sync", nil); resp.StatusCode != 401 {
		t.Errorf("POST /api/v1/sync without the token: %d, want 401", resp.StatusCode)
	}
}

// TestErrorStatuses: each kind of failure has its status and code; a
// database out of reach is 503 (another replica or a retry may serve),
// not 500 (the request failed and would again).
func TestErrorStatuses(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("query: %w", ErrInvalid), 400, xiiapi.CodeInvalidRequest},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), 504, xiiapi.CodeTimeout},
		{fmt.Errorf("query: %w: dial tcp: connection refused", ErrUnavailable), 503, xiiapi.CodeStoreUnavailable},
		{errors.New("query: something broke"), 500, xiiapi.CodeInternal},
	} {
		if status, code := statusOf(tt.err); status != tt.status || code != tt.code {
			t.Errorf("%v: %d %s, want %d %s", tt.err, status, code, tt.status, tt.code)
		}
	}
}
