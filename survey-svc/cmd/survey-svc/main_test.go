package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
	"xii/testkit/etcdtest"
	"xii/testkit/pgtest"
	"xii/testkit/wait"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c config) bool {
			return c.Name == "blue" && c.AdvertiseURL == "http://127.0.0.1:1101" &&
				strings.HasSuffix(c.PostgresURL, "/xii_survey_blue?sslmode=disable") && len(c.EtcdEndpoints) == 1
		}, ""},
		{"red from env", nil, map[string]string{"XII_NAME": "red", "XII_LISTEN_ADDR": ":1102"}, func(c config) bool {
			return c.AdvertiseURL == "http://127.0.0.1:1102" && strings.Contains(c.PostgresURL, "xii_survey_red")
		}, ""},
		{"no etcd", []string{"-etcd-endpoints="}, nil, func(c config) bool { return len(c.EtcdEndpoints) == 0 }, ""},
		{"etcd list", []string{"-etcd-endpoints= a:1 , b:2"}, nil, func(c config) bool { return len(c.EtcdEndpoints) == 2 && c.EtcdEndpoints[1] == "b:2" }, ""},
		{"bad name", []string{"-name=a/b"}, nil, nil, "name: must be"},
		{"bad listen", []string{"-listen-addr=1101"}, nil, nil, "listen-addr"},
		{"bad advertise", []string{"-advertise-url=ftp://x"}, nil, nil, "advertise-url"},
		{"bad postgres", []string{"-postgres-url=mysql://x"}, nil, nil, "postgres-url"},
		{"small body", []string{"-max-body-bytes=10"}, nil, nil, "max-body-bytes"},
		{"short ttl", []string{"-register-ttl=1s"}, nil, nil, "register-ttl"},
		{"bad env", nil, map[string]string{"XII_SHUTDOWN_TIMEOUT": "later"}, nil, "XII_SHUTDOWN_TIMEOUT"},
		{"bad level", []string{"-log-level=loud"}, nil, nil, "log-level"},
		{"stray args", []string{"serve"}, nil, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig() = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("parseConfig() = %+v, %v", c, err)
			}
		})
	}
}

func TestConfigLogMasksSecrets(t *testing.T) {
	c, err := parseConfig([]string{"-export-token=tok3n", "-postgres-url=postgres://u:pa55@db/x?password=pa55"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	newTestLogger(&buf).Info("starting", "config", c)
	if out := buf.String(); strings.Contains(out, "tok3n") || strings.Contains(out, "pa55") {
		t.Fatalf("config log leaks a secret: %s", out)
	}
}

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

// TestRun starts the real service against PostgreSQL and etcd, runs the
// seed's POST command against it, and checks registration and shutdown.
func TestRun(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	dbURL := pgtest.NewDatabase(t)
	etcd := etcdtest.Start(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-name=blue", "-listen-addr=127.0.0.1:" + strconv.Itoa(port)}, env(map[string]string{
			"XII_POSTGRES_URL":   dbURL,
			"XII_ETCD_ENDPOINTS": strings.Join(etcd.Endpoints(), ","),
			"XII_REGISTER_TTL":   "2s",
		}), &logs, io.Discard)
	}()
	wait.For(t, "readiness", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// The seed's command, verbatim but for the port.
	resp, err := http.Post(base+"/api/v1/reporter", "application/json",
		strings.NewReader(`{"text":"request: 01 to blue survey","device":"x","location":"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"text":"request: 01 to blue survey"`) {
		t.Fatalf("seed POST: %d %s", resp.StatusCode, body)
	}

	cli := etcd.Client(t)
	key := discovery.ProviderKey("blue")
	var desc discovery.Descriptor
	wait.For(t, "registration", func() bool {
		got, err := cli.Get(ctx, key)
		if err != nil || len(got.Kvs) != 1 || got.Kvs[0].Lease == 0 {
			return false
		}
		return json.Unmarshal(got.Kvs[0].Value, &desc) == nil
	})
	if desc.URL != base || desc.Dialect != discovery.DialectXII {
		t.Fatalf("registered %+v, want %s as xii-v1", desc, base)
	}

	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `http_request_method="POST",http_response_status_code="201",http_route="/api/v1/reporter"`) {
		t.Errorf("/metrics lacks the per-route series of the request just served:\n%s", metrics)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run() = %v after shutdown, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run() did not return after shutdown")
	}
	if got, err := cli.Get(context.Background(), key, clientv3.WithCountOnly()); err != nil || got.Count != 0 {
		t.Fatalf("after shutdown %s: count %v (err %v), want deregistered", key, got.Count, err)
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		t.Fatal("port still open after shutdown")
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("error logged during a clean run:\n%s", logs.String())
	}
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
