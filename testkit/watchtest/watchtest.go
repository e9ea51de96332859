// Package watchtest holds helpers for tests of code that follows etcd:
// clients that reconnect quickly, confined to a namespace of their own on a
// shared etcd, readable logs and metrics, and a goroutine leak check.
package watchtest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/namespace"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Client returns a client of endpoints, closed when tb ends. It reconnects
// within a fifth of a second of etcd coming back, as a service's client
// should be configured to.
func Client(tb testing.TB, endpoints []string) *clientv3.Client {
	tb.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: time.Second,
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, MaxDelay: 200 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
		Logger: zap.NewNop(),
	})
	if err != nil {
		tb.Fatalf("etcd client: %v", err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// NamespacedClient is a Client whose keys, watches and leases live under a
// prefix of tb's own, new on every run, so tests can share one etcd and
// run in parallel.
func NamespacedClient(tb testing.TB, endpoints []string) *clientv3.Client {
	tb.Helper()
	cli := Client(tb, endpoints)
	ns := fmt.Sprintf("/test/%s/%x", tb.Name(), rand.Uint64())
	cli.KV = namespace.NewKV(cli.KV, ns)
	cli.Watcher = namespace.NewWatcher(cli.Watcher, ns)
	cli.Lease = namespace.NewLease(cli.Lease, ns)
	return cli
}

// stopLimit bounds how long a Running may take to return once stopped.
const stopLimit = 20 * time.Second

// Running is a function running in the background.
type Running struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Go runs run in the background until Stop is called or tb ends; then it
// fails tb unless run returned nil promptly.
func Go(tb testing.TB, run func(ctx context.Context) error) *Running {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	tb.Cleanup(func() {
		if err := r.Stop(); err != nil {
			tb.Errorf("run: %v", err)
		}
	})
	return r
}

// Stop cancels run's context and returns what run returned, or an error if
// it has not returned within twenty seconds.
func (r *Running) Stop() error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(stopLimit):
			r.err = fmt.Errorf("did not return within %s of its context ending", stopLimit)
		}
	})
	return r.err
}

// Counter returns the sum of the Int64 counter name over the points whose
// attribute key is value, read from reader.
func Counter(tb testing.TB, reader *sdkmetric.ManualReader, name, key, value string) int64 {
	tb.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(tb.Context(), &rm); err != nil {
		tb.Fatalf("collect metrics: %v", err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				if v, ok := dp.Attributes.Value(attribute.Key(key)); ok && v.AsString() == value {
					n += dp.Value
				}
			}
		}
	}
	return n
}

// Logs collects JSON log lines for tests to read.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a logger writing to l at every level.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Lines returns the lines that contain every one of parts.
func (l *Logs) Lines(parts ...string) []string {
	var found []string
	for line := range strings.Lines(l.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			found = append(found, line)
		}
	}
	return found
}
