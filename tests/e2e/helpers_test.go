package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLog keeps the system's output and shows it when the test fails.
type testLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func newTestLog(t *testing.T) *testLog {
	l := &testLog{}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Logf("system output:\n%s", l.buf.String())
		}
	})
	return l
}

// call sends a request and returns the status, headers and body.
func call(method, url, contentType, body string, header http.Header) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-type", contentType)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// record is a response as the dashboard returns it.
type record struct {
	Provider   string    `json:"provider"`
	ProviderID string    `json:"provider_id"`
	Survey     string    `json:"survey"`
	Text       string    `json:"text"`
	Device     string    `json:"device"`
	Location   string    `json:"location"`
	CreatedAt  time.Time `json:"created_at"`
}

type envelope struct {
	Data       []record `json:"data"`
	NextCursor string   `json:"next_cursor"`
	Sync       struct {
		Complete  bool `json:"complete"`
		Providers map[string]struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"providers"`
	} `json:"sync"`
}

// responses asks the dashboard for GET /api/v1/responses?query.
func responses(base, query string) (envelope, http.Header, error) {
	status, h, b, err := call("GET", base+"/api/v1/responses?"+query, "", "", nil)
	if err != nil {
		return envelope{}, nil, err
	}
	if status != 200 {
		return envelope{}, h, fmt.Errorf("GET responses?%s: %d %s", query, status, b)
	}
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return envelope{}, h, fmt.Errorf("GET responses: %w: %s", err, b)
	}
	if h.Get("X-Sync-Complete") != fmt.Sprint(e.Sync.Complete) {
		return e, h, fmt.Errorf("X-Sync-Complete %q, body complete=%v", h.Get("X-Sync-Complete"), e.Sync.Complete)
	}
	return e, h, nil
}

// submit posts a response to a survey-svc and returns its id.
func submit(base, body string) (string, error) {
	status, _, b, err := call("POST", base+"/api/v1/responses", "application/json", body, nil)
	if err != nil {
		return "", err
	}
	if status != 201 {
		return "", fmt.Errorf("POST %s: %d %s", base, status, b)
	}
	var r struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", err
	}
	return fmt.Sprint(r.ID), nil
}

// waitLimit bounds every wait on the running system, twice wait.Limit: here
// the whole system runs (every service, etcd, PostgreSQL and Jaeger).
const waitLimit = 60 * time.Second
