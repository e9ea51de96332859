package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestDelayProxyDelaysAndForwards(t *testing.T) {
	type seen struct {
		path, query string
		at          time.Time
	}
	got := make(chan seen, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.Path, r.URL.RawQuery, time.Now()}
		w.Header().Set("X-Backend", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "page")
	}))
	defer backend.Close()
	const delay = 50 * time.Millisecond
	p, err := startDelayProxy(backend.URL, delay)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.close(); err != nil {
			t.Error(err)
		}
	}()
	sent := time.Now()
	resp, err := http.Get(p.url + "/api/v1/responses?limit=3")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || string(body) != "page" || resp.Header.Get("X-Backend") != "yes" {
		t.Fatalf("answer %d %q %v; want the backend's 418 page", resp.StatusCode, body, resp.Header)
	}
	s := <-got
	if s.path != "/api/v1/responses" || s.query != "limit=3" {
		t.Fatalf("backend saw %s?%s", s.path, s.query)
	}
	if waited := s.at.Sub(sent); waited < delay {
		t.Fatalf("forwarded after %s, want at least %s", waited, delay)
	}
}

func TestDelayProxyDropsAGivenUpRequest(t *testing.T) {
	forwarded := make(chan struct{}, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { forwarded <- struct{}{} }))
	defer backend.Close()
	u, _ := url.Parse(backend.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // gone before the delay is over
	req := httptest.NewRequestWithContext(ctx, "GET", "/x", nil)
	rec := httptest.NewRecorder()
	delayHandler(u, time.Hour).ServeHTTP(rec, req) // returns only because the request is given up
	select {
	case <-forwarded:
		t.Fatal("a given-up request was forwarded")
	default:
	}
}
