package dashboard

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"xii/libs/xiiapi"
	"xii/libs/xiiapi/xiihttp"
)

// stubAggregator answers from fixed values and records what it was asked.
type stubAggregator struct {
	mu        sync.Mutex
	page      Page
	stats     Stats
	err       error
	wait      bool          // block until the call's context ends, then return its error
	started   chan struct{} // when set, a waiting call signals its start here
	ended     chan error    // when set, a waiting call sends its context's error here
	queries   []Query
	stQueries []StatsQuery
	budgets   []time.Duration // time left until the call's deadline; -1: none
}

func (s *stubAggregator) record(ctx context.Context) {
	budget := time.Duration(-1)
	if d, ok := ctx.Deadline(); ok {
		budget = time.Until(d)
	}
	s.budgets = append(s.budgets, budget)
}

func (s *stubAggregator) Responses(ctx context.Context, q Query) (Page, error) {
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.record(ctx)
	page, err, wait := s.page, s.err, s.wait
	s.mu.Unlock()
	if wait {
		return Page{}, s.waitForEnd(ctx)
	}
	if q.Cursor != "" && q.Cursor == page.NextCursor {
		page = Page{Sync: page.Sync} // the page after the last
	}
	return page, err
}

// ResponsesEncoded answers as the aggregator does: Responses' page in the
// contract's body, the sync in the headers' terms.
func (s *stubAggregator) ResponsesEncoded(ctx context.Context, q Query) (EncodedPage, error) {
	p, err := s.Responses(ctx, q)
	if err != nil {
		return EncodedPage{}, err
	}
	return encodePage(p), nil
}

// encodePage is p as the aggregator encodes it.
func encodePage(p Page) EncodedPage {
	rep := reportOrEmpty(p.Sync)
	b, err := json.Marshal(xiiapi.ResponsesBody{Data: xiihttp.OrEmpty(p.Responses), NextCursor: p.NextCursor, Sync: &rep})
	if err != nil {
		panic(err)
	}
	var unsynced []string
	if !rep.Complete {
		unsynced = rep.Incomplete()
	}
	return EncodedPage{Body: append(b, '\n'), Complete: rep.Complete, Unsynced: unsynced}
}

func (s *stubAggregator) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	s.mu.Lock()
	s.stQueries = append(s.stQueries, q)
	s.record(ctx)
	st, err, wait := s.stats, s.err, s.wait
	s.mu.Unlock()
	if wait {
		return Stats{}, s.waitForEnd(ctx)
	}
	return st, err
}

func (s *stubAggregator) Providers(ctx context.Context) (Providers, error) {
	s.mu.Lock()
	s.record(ctx)
	err, wait := s.err, s.wait
	s.mu.Unlock()
	if wait {
		return Providers{}, s.waitForEnd(ctx)
	}
	return Providers{Providers: []xiiapi.ProviderInfo{{Name: "blue", Dialect: "xii-v1", Status: xiiapi.StatusOK, Breaker: "closed"}}}, err
}

// waitForEnd is a hung aggregator: it answers only when ctx ends.
func (s *stubAggregator) waitForEnd(ctx context.Context) error {
	if s.started != nil {
		s.started <- struct{}{}
	}
	<-ctx.Done()
	if s.ended != nil {
		s.ended <- ctx.Err()
	}
	return ctx.Err()
}

func (s *stubAggregator) lastBudget(t *testing.T) time.Duration {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.budgets) == 0 {
		t.Fatal("the aggregator was not called")
	}
	return s.budgets[len(s.budgets)-1]
}

func (s *stubAggregator) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queries) + len(s.stQueries)
}

// newHandler is the API over agg, the way cmd wires it but without
// telemetry.
func newHandler(agg Aggregator, opts HTTPOptions) http.Handler {
	return NewHTTPHandler(MakeEndpoints(NewService(agg)), opts)
}

// answer is one recorded HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// serve sends one request to h and records the answer.
func serve(t *testing.T, h http.Handler, method, target string, header http.Header) answer {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	return record(t, h, req)
}

// record sends req to h and records the answer.
func record(t *testing.T, h http.Handler, req *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: rec.Code, header: rec.Result().Header, body: body}
}

// samplePage is a one-response page from an incomplete sync.
func samplePage() Page {
	return Page{
		Responses: []Response{{
			Provider: "blue", ProviderID: "1", Survey: "default", Text: "request: 01 to blue survey",
			Device: "iOS", Location: "Germany", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		}},
		NextCursor: "eyJ0IjoxfQ",
		Sync: SyncReport{Complete: false, Providers: map[string]ProviderSync{
			"blue": {Status: xiiapi.StatusOK, Rows: 1, Pages: 1},
			"red":  {Status: xiiapi.StatusTimeout, LagMS: 1500, Error: "no answer within 1.6s"},
		}},
	}
}
