package aggregator

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/go-kit/kit/sd"
	kitlog "github.com/go-kit/log"

	"xii/libs/discovery"
)

// replicaSet is the go-kit sd.Instancer of the aggregator's replicas: the
// base URLs under the prefix, as discovery.Follow delivers them. While etcd
// is unreachable Follow delivers nothing, so the replicas last read stay.
type replicaSet struct {
	prefix string
	logger *slog.Logger
	read   chan struct{} // closed after the first delivery

	mu    sync.Mutex
	state sd.Event
	subs  map[chan<- sd.Event]struct{}
}

var _ sd.Instancer = (*replicaSet)(nil)

func newReplicaSet(prefix string, logger *slog.Logger) *replicaSet {
	return &replicaSet{prefix: prefix, logger: logger, read: make(chan struct{}), subs: map[chan<- sd.Event]struct{}{}}
}

// update takes the prefix's content: the values of the valid keys right
// under it, sorted and without duplicates, are the replicas.
func (s *replicaSet) update(kvs map[string]discovery.Entry) {
	entries := make([]string, 0, len(kvs))
	for key, e := range kvs {
		if _, err := discovery.NameFromKey(s.prefix, key); err != nil {
			s.logger.Warn("aggregator key ignored", "err", err)
			continue
		}
		if v := strings.TrimSpace(e.Value); v != "" {
			entries = append(entries, v)
		}
	}
	slices.Sort(entries)
	entries = slices.Compact(entries)

	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.read:
		if slices.Equal(s.state.Instances, entries) {
			return
		}
	default:
		close(s.read)
	}
	s.logger.Info("aggregator replicas", "replicas", entries)
	s.state = sd.Event{Instances: entries}
	for ch := range s.subs {
		ch <- s.state
	}
}

// Register implements sd.Instancer: ch gets the current replicas now and
// every change after.
func (s *replicaSet) Register(ch chan<- sd.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[ch] = struct{}{}
	ch <- s.state
}

// Deregister implements sd.Instancer.
func (s *replicaSet) Deregister(ch chan<- sd.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, ch)
}

// Stop implements sd.Instancer; following ends with the client.
func (s *replicaSet) Stop() {}

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
