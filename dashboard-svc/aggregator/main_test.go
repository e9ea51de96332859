package aggregator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xii/dashboard-svc/dashboard"
	"xii/testkit/etcdtest"
	"xii/testkit/wait"

	"xii/libs/xiiapi"
)

// shared is one etcd for every test of the package; each test uses a
// prefix of its own.
var shared *etcdtest.Server

// waitLimit bounds every wait; what is waited for takes well under a
// second even under the race detector.
const waitLimit = 20 * time.Second

func TestMain(m *testing.M) { etcdtest.Main(m, &shared) }

var prefixes atomic.Int64

// newTestClient returns a client following a fresh prefix, closed when t
// ends, and a function registering a replica under it until t ends.
func newTestClient(t testing.TB, cfg Config) (*Client, func(id, value string) (unregister func())) {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = fmt.Sprintf("/xii/test/%d/aggregator/", prefixes.Add(1))
	}
	cfg.EtcdEndpoints = shared.Endpoints()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	cli := shared.Client(t)
	register := func(id, value string) func() {
		t.Helper()
		key := cfg.Prefix + id
		if _, err := cli.Put(t.Context(), key, value); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		return func() {
			if _, err := cli.Delete(context.WithoutCancel(t.Context()), key); err != nil {
				t.Errorf("delete %s: %v", key, err)
			}
		}
	}
	return c, register
}

// waitReplicas waits until c knows n replicas.
func waitReplicas(t testing.TB, c *Client, n int) {
	t.Helper()
	wait.For(t, strconv.Itoa(n)+" replicas known", func() bool { return c.Replicas() == n })
}

// fakeAggregator is an aggregator replica that records what it is asked.
type fakeAggregator struct {
	*httptest.Server
	name string

	mu       sync.Mutex
	requests []seen // the requests seen, in order
	handle   func(w http.ResponseWriter, r *http.Request)
	ended    chan error // when set, a hanging handler sends its request context's error
}

// newFake starts a replica that answers every request with a complete
// page holding one response from it, until t ends.
func newFake(t testing.TB, name string) *fakeAggregator {
	t.Helper()
	f := &fakeAggregator{name: name}
	f.handle = f.answerPage
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, seen{path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone()})
		h := f.handle
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// set replaces the fake's handler.
func (f *fakeAggregator) set(h func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handle = h
}

func (f *fakeAggregator) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// seen is what a fake replica was asked.
type seen struct {
	path   string
	query  url.Values
	header http.Header
}

func (f *fakeAggregator) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatalf("replica %s was not asked", f.name)
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeAggregator) answerPage(w http.ResponseWriter, r *http.Request) {
	body := xiiapi.ResponsesBody{
		Data: []dashboard.Response{{Provider: "blue", ProviderID: "1", Text: "from " + f.name}},
		Sync: &dashboard.SyncReport{Complete: true, Providers: map[string]dashboard.ProviderSync{"blue": {Status: xiiapi.StatusOK}}},
	}
	if r.URL.Path == xiiapi.StatsPath {
		writeJSON(w, http.StatusOK, "true", xiiapi.StatsBody{Total: 1, Sync: body.Sync})
		return
	}
	writeJSON(w, http.StatusOK, "true", body)
}

// hang answers nothing until the request's context ends, and reports how
// it ended.
func (f *fakeAggregator) hang(w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
	if f.ended != nil {
		f.ended <- r.Context().Err()
	}
}

func writeJSON(w http.ResponseWriter, status int, complete string, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if complete != "" {
		w.Header().Set(dashboard.SyncCompleteHeader, complete)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
