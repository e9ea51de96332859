package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xii/dashboard-svc/aggregator"
	"xii/dashboard-svc/dashboard"
	"xii/libs/xiiapi"
	"xii/testkit/etcdtest"
	"xii/testkit/wait"
)

// shared is one etcd for the package's tests.
var shared *etcdtest.Server

const waitLimit = 20 * time.Second

func TestMain(m *testing.M) { etcdtest.Main(m, &shared) }

// syncBuffer is a bytes.Buffer safe for the service's log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// fetch GETs url with header and returns the status, header and body.
func fetch(t *testing.T, url string, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// fakeAggregator answers every read with one response and a complete sync,
// and reports the traceparent it was sent.
func fakeAggregator(t *testing.T) (*httptest.Server, <-chan string) {
	t.Helper()
	traces := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case traces <- r.Header.Get("Traceparent"):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(dashboard.SyncCompleteHeader, "true")
		_ = json.NewEncoder(w).Encode(xiiapi.ResponsesBody{
			Data: []dashboard.Response{{Provider: "blue", ProviderID: "1", Text: "request: 01 to blue survey", Device: "x", Location: "y"}},
			Sync: &dashboard.SyncReport{Complete: true, Providers: map[string]dashboard.ProviderSync{"blue": {Status: xiiapi.StatusOK}}},
		})
	}))
	t.Cleanup(srv.Close)
	return srv, traces
}

// TestRun starts the real command against etcd and a fake aggregator
// replica, runs the seed's read against it and checks readiness, the
// token, metrics and a clean shutdown.
func TestRun(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	agg, traces := fakeAggregator(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	const token = "test-token-0123456789"

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen-addr=127.0.0.1:" + strconv.Itoa(port)}, env(map[string]string{
			"XII_ETCD_ENDPOINTS": strings.Join(shared.Endpoints(), ","),
			"XII_API_TOKEN":      token,
		}), &logs, io.Discard)
	}()
	wait.For(t, "liveness", func() bool { status, _, _ := fetch(t, base+"/healthz", nil); return status == 200 })
	if status, _, body := fetch(t, base+"/readyz", nil); status != 503 {
		t.Fatalf("/readyz with no aggregator: %d %s, want 503", status, body)
	}

	cli := shared.Client(t)
	key := aggregator.Prefix + "a1"
	if _, err := cli.Put(t.Context(), key, agg.URL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Delete(context.Background(), key) })
	wait.For(t, "readiness", func() bool { status, _, _ := fetch(t, base+"/readyz", nil); return status == 200 })

	auth := http.Header{"Authorization": {"Bearer " + token}}
	if status, header, _ := fetch(t, base+"/api/v1/reporter", nil); status != 401 || header.Get("WWW-Authenticate") == "" {
		t.Fatalf("reporter without the token: %d, want 401 with a challenge", status)
	}
	status, header, body := fetch(t, base+"/api/v1/reporter", auth)
	if status != 200 || !strings.HasPrefix(body, `[{"provider":"blue"`) || !strings.Contains(body, `"text":"request: 01 to blue survey"`) {
		t.Fatalf("seed GET: %d %s", status, body)
	}
	if header.Get(dashboard.SyncCompleteHeader) != "true" {
		t.Errorf("%s %q", dashboard.SyncCompleteHeader, header.Get(dashboard.SyncCompleteHeader))
	}
	if tp := <-traces; len(tp) != 55 || !strings.HasPrefix(tp, "00-") {
		t.Errorf("the aggregator got traceparent %q", tp)
	}

	if status, _, body := fetch(t, base+"/metrics", nil); status != 200 ||
		!strings.Contains(body, `http_request_method="GET",http_response_status_code="200",http_route="/api/v1/reporter"`) {
		t.Errorf("/metrics lacks the per-route series of the request just served:\n%s", body)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run() = %v after shutdown, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("run() did not return after shutdown")
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		t.Fatal("port still open after shutdown")
	}
	out := logs.String()
	if strings.Contains(out, `"level":"ERROR"`) || strings.Contains(out, token) {
		t.Errorf("error or token logged during a clean run:\n%s", out)
	}
}

// TestRunBadConfig: a bad setting stops start-up with a message naming it.
func TestRunBadConfig(t *testing.T) {
	err := run(t.Context(), []string{"-max-timeout=1m"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "max-timeout") {
		t.Fatalf("run() = %v, want an error naming max-timeout", err)
	}
}
