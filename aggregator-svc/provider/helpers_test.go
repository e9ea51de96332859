package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testToken is the bearer token the fake servers want; no error may show it.
const testToken = "tok-7Hq2xVv9-secret"

// testCursor is a cursor no error may quote: it travels in the URL's query.
const testCursor = "cursor-9f8e7d"

// newServer starts h and stops it when the test ends.
func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// newSource builds a source for srv; its client is srv's, whose idle
// connections close with srv.
func newSource(tb testing.TB, srv *httptest.Server, name string, d Descriptor, opts Options) Source {
	tb.Helper()
	if opts.HTTPClient == nil {
		opts.HTTPClient = srv.Client()
	}
	s, err := New(name, d, opts)
	if err != nil {
		tb.Fatalf("New(%q, %+v): %v", name, d, err)
	}
	return s
}

// canned answers every request with status, header and body.
func canned(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// checkFetchError checks that a failed fetch returned no records, an error
// matching want, naming the provider, and quoting neither token nor cursor.
func checkFetchError(tb testing.TB, name string, page Page, err error, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("err = %v, want %v", err, want)
	}
	if len(page.Records) != 0 || page.Next != "" || page.HasMore {
		tb.Errorf("page = %+v, want the zero page", page)
	}
	checkNoSecrets(tb, err)
	if !strings.Contains(err.Error(), "fetch page from "+name+":") {
		tb.Errorf("err = %q, want it to name provider %s", err, name)
	}
}

func checkNoSecrets(tb testing.TB, err error) {
	tb.Helper()
	for _, secret := range []string{testToken, testCursor, "after=", "Bearer"} {
		if strings.Contains(err.Error(), secret) {
			tb.Errorf("err = %q quotes %q", err, secret)
		}
	}
}

// stall is a handler that never answers: it blocks until the client gives
// up on the request or the test ends. With partial set it first sends the
// headers and partial, so the stall is in the body.
func stall(tb testing.TB, partial string) http.HandlerFunc {
	release := make(chan struct{})
	tb.Cleanup(func() { close(release) })
	return func(w http.ResponseWriter, r *http.Request) {
		if partial != "" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, partial)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

// endlessPage writes prefix, then item(i) for i = 0, 1, ... separated by
// commas up to about limit bytes, then suffix: a page far larger than the
// client will read. It stops early once the client has gone.
func endlessPage(prefix string, item func(i int) string, limit int, suffix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		n, _ := io.WriteString(w, prefix)
		for i := 0; n < limit; i++ {
			sep := ","
			if i == 0 {
				sep = ""
			}
			m, err := io.WriteString(w, sep+item(i))
			if err != nil || r.Context().Err() != nil {
				return
			}
			n += m
		}
		io.WriteString(w, suffix)
	}
}

// fetchWithin fetches with a deadline of d.
func fetchWithin(s Source, d time.Duration, req Request) (Page, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Fetch(ctx, req)
}

// steppingClock is a clock that moves step ahead each time it is read, so
// a rate limiter reading it never has to wait.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

func mustParse(tb testing.TB, raw string) *url.URL {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// boundTo is a credential for token bound to rawURL's origin; none when
// token is empty.
func boundTo(tb testing.TB, rawURL, token string) Credential {
	tb.Helper()
	if token == "" {
		return Credential{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	return Credential{Token: token, Bound: &url.URL{Scheme: u.Scheme, Host: u.Host}}
}
