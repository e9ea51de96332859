package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// tokenEnv names the bearer token every request carries when it is set:
// the dashboard's XII_API_TOKEN, or the aggregator's XII_INTERNAL_TOKEN
// for a run against it. It is read from the environment, not a flag, so
// that it shows in no process list.
const tokenEnv = "XII_LOAD_TOKEN"

// newClient returns an HTTP client that keeps a connection per worker
// alive, so that a run measures requests rather than TCP handshakes.
func newClient(workers int, timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = workers + 16
	t.MaxIdleConnsPerHost = workers + 16
	var rt http.RoundTripper = t
	if token := os.Getenv(tokenEnv); token != "" {
		rt = bearer{token: token, next: t}
	}
	return &http.Client{Transport: rt, Timeout: timeout}
}

// bearer adds the token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// statusError is an answer outside 2xx.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

// send sends a request with an optional JSON body, reads the whole answer
// and returns its header; an answer outside 2xx is a *statusError.
func send(ctx context.Context, c *http.Client, method, url string, body []byte) (http.Header, error) {
	h, _, err := sendRead(ctx, c, method, url, body)
	return h, err
}

// sendRead is send that also returns the answer's body.
func sendRead(ctx context.Context, c *http.Client, method, url string, body []byte) (http.Header, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, nil, fmt.Errorf("new request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if len(b) > 200 {
			b = b[:200]
		}
		return nil, nil, &statusError{resp.StatusCode, string(b)}
	}
	return resp.Header, b, nil
}
