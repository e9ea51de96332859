package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/kit/sd/etcdv3"
	kitlog "github.com/go-kit/log"
	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
)

// Re-watch delays after a watch ends while the client still runs (etcd
// compacted past it, or lost its leader).
const (
	rewatchMin = 100 * time.Millisecond
	rewatchMax = 2 * time.Second
)

var errReadOnly = errors.New("aggregator discovery: read-only etcd client")

// watchClient is the read half of go-kit's etcdv3.Client, which is all its
// Instancer uses. go-kit's own client cannot be closed and stops watching
// for good once etcd compacts past its watch; this one closes with Close,
// watches again after any cancelled watch, and bounds each read.
type watchClient struct {
	cli     *clientv3.Client
	ctx     context.Context // ends the watch
	timeout time.Duration   // bounds one read
	logger  *slog.Logger

	done     chan struct{} // closed when WatchPrefix returns
	doneOnce sync.Once

	mu   sync.Mutex
	last []string // the replicas of the previous read, for logging changes
}

var _ etcdv3.Client = (*watchClient)(nil)

// GetEntries returns the values of the valid keys right under prefix: the
// replicas' base URLs, sorted and without duplicates.
func (w *watchClient) GetEntries(prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.timeout)
	defer cancel()
	resp, err := w.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", prefix, err)
	}
	entries := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if _, err := discovery.NameFromKey(prefix, string(kv.Key)); err != nil {
			w.logger.Warn("aggregator key ignored", "err", err)
			continue
		}
		if v := strings.TrimSpace(string(kv.Value)); v != "" {
			entries = append(entries, v)
		}
	}
	slices.Sort(entries)
	entries = slices.Compact(entries)
	w.logChange(entries)
	return entries, nil
}

func (w *watchClient) logChange(entries []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last != nil && slices.Equal(w.last, entries) {
		return
	}
	w.last = entries
	w.logger.Info("aggregator replicas", "replicas", entries)
}

// WatchPrefix signals on ch once the watch is established and after every
// change under prefix, until the client's context ends. go-kit's Instancer
// reads the entries again on every signal. A watch that ends (compaction,
// a lost leader) is made anew, which signals again once established.
func (w *watchClient) WatchPrefix(prefix string, ch chan struct{}) {
	defer w.doneOnce.Do(func() { close(w.done) })
	delay := rewatchMin
	for {
		established, err := w.watch(prefix, ch)
		if w.ctx.Err() != nil {
			return
		}
		w.logger.Warn("aggregator watch ended; watching again", "err", err)
		if established {
			delay = rewatchMin
		}
		select {
		case <-w.ctx.Done():
			return
		case <-time.After(delay):
			delay = min(2*delay, rewatchMax)
		}
	}
}

// watch runs one watch until it ends, signalling on ch, and reports
// whether it was established and why it ended.
func (w *watchClient) watch(prefix string, ch chan struct{}) (established bool, err error) {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(w.ctx))
	defer cancel()
	for wr := range w.cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify()) {
		if err := wr.Err(); err != nil {
			return established, err
		}
		established = established || wr.Created
		select {
		case ch <- struct{}{}:
		case <-ctx.Done():
			return established, ctx.Err()
		}
	}
	return established, errors.New("watch channel closed")
}

// Register is not supported: the dashboard only reads.
func (w *watchClient) Register(etcdv3.Service) error { return errReadOnly }

// Deregister is not supported: the dashboard only reads.
func (w *watchClient) Deregister(etcdv3.Service) error { return errReadOnly }

// LeaseID is always 0: the dashboard holds no lease.
func (w *watchClient) LeaseID() int64 { return 0 }

// kitLogger passes go-kit's key-value logs to slog: at warn level when they
// carry an error, at debug otherwise.
func kitLogger(l *slog.Logger) kitlog.Logger {
	return kitlog.LoggerFunc(func(kv ...any) error {
		level := slog.LevelDebug
		for i := 0; i < len(kv); i += 2 {
			if kv[i] == "err" {
				level = slog.LevelWarn
			}
		}
		l.Log(context.Background(), level, "aggregator discovery", kv...)
		return nil
	})
}
