package tuning

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"xii/libs/discovery"
)

// Live is the current Tuning, kept in step with the keys under Prefix by
// Run. A key absent from etcd has its default; a key holding an invalid
// value keeps its last good value (its default if it never had one). While
// etcd is unreachable the settings stay as they were.
type Live struct {
	defaults Tuning
	log      *slog.Logger
	rejected metric.Int64Counter
	follow   discovery.FollowOptions // how Run follows etcd; tests shorten its delays
	cur      atomic.Pointer[Tuning]
	started  atomic.Bool

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	settings []Setting     // what Settings returns; set by apply

	reported map[string]int64 // rejected etcd key to the revision logged; Run's only
}

// NewLive returns a Live holding defaults until Run reads etcd. logger nil
// discards logs; mp nil records no metrics.
func NewLive(defaults Tuning, logger *slog.Logger, mp metric.MeterProvider) (*Live, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	rejected, err := mp.Meter("xii/aggregator-svc/tuning").Int64Counter("xii.config.rejected",
		metric.WithDescription("Settings written to etcd and rejected, by key (\"unknown\" for unknown keys)."))
	if err != nil {
		return nil, fmt.Errorf("new live tuning: metric: %w", err)
	}
	l := &Live{
		defaults: defaults,
		log:      logger,
		follow:   discovery.FollowOptions{Logger: logger},
		rejected: rejected,
		changed:  make(chan struct{}),
		reported: map[string]int64{},
	}
	l.cur.Store(&defaults)
	l.settings = settingsOf(defaults, nil, nil)
	return l, nil
}

// Setting is one setting as in force, and a value written to etcd for it
// and rejected, if any: a rejected write is visible until it is fixed or
// deleted, also after a restart, rather than silently replaced.
type Setting struct {
	Key   string
	Value string // in force
	// FromEtcd: Value was written to etcd; otherwise it is the default.
	FromEtcd bool
	// Rejected is the value written to etcd and refused, "" when none, and
	// Reason why. A key that is no setting at all is listed with no Value.
	Rejected, Reason string
}

// Settings returns every setting in force, in Keys order, then the keys
// written to etcd that are no setting.
func (l *Live) Settings() []Setting {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.settings)
}

// settingsOf describes t, with the keys fromEtcd set and the writes rejected
// (name to Setting holding Rejected and Reason).
func settingsOf(t Tuning, fromEtcd map[string]bool, rejected map[string]Setting) []Setting {
	out := make([]Setting, 0, len(Keys)+len(rejected))
	for _, k := range Keys {
		st := Setting{Key: k, Value: t.Get(k), FromEtcd: fromEtcd[k]}
		if r, ok := rejected[k]; ok {
			st.Rejected, st.Reason = r.Rejected, r.Reason
		}
		out = append(out, st)
	}
	for _, k := range slices.Sorted(maps.Keys(rejected)) {
		if !slices.Contains(Keys, k) {
			out = append(out, rejected[k])
		}
	}
	return out
}

// Current returns the settings in force. It takes no lock, so it can be
// called for every page fetch.
func (l *Live) Current() Tuning { return *l.cur.Load() }

// Changed returns a channel that is closed at the next change of the
// settings. Call it before Current so that no change goes unnoticed.
func (l *Live) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// Run follows Prefix in etcd until ctx ends, and then returns nil. A write
// takes effect as soon as etcd reports it; a rejected one is logged with its
// key and reason and counted in the xii.config.rejected metric. Run retries
// as discovery.Follow does and never fails because etcd is unreachable. It may
// be called once.
func (l *Live) Run(ctx context.Context, cli *clientv3.Client) error {
	if !l.started.CompareAndSwap(false, true) {
		return errors.New("live tuning: already running")
	}
	err := discovery.Follow(ctx, cli, Prefix, l.follow, func(kvs map[string]discovery.Entry) {
		l.apply(ctx, kvs)
	})
	if err != nil {
		return fmt.Errorf("live tuning: %w", err)
	}
	return nil
}

// apply computes the settings from the content of Prefix, key to entry.
func (l *Live) apply(ctx context.Context, kvs map[string]discovery.Entry) {
	prev := l.Current()
	next := l.defaults
	fromEtcd, rejected := map[string]bool{}, map[string]Setting{}
	for key, e := range kvs {
		name := strings.TrimPrefix(key, Prefix)
		t, err := next.Set(name, e.Value)
		if err == nil {
			next = t
			fromEtcd[name] = true
			delete(l.reported, key)
			continue
		}
		rejected[name] = Setting{Key: name, Rejected: e.Value, Reason: err.Error()}
		l.reject(ctx, key, name, e, err)
		if slices.Contains(Keys, name) {
			// The last good value stays. It was accepted before, unless
			// it is an out-of-bounds default, which next holds already.
			next, _ = next.Set(name, prev.Get(name))
		}
	}
	for key := range l.reported {
		if _, ok := kvs[key]; !ok {
			delete(l.reported, key)
		}
	}
	l.mu.Lock()
	l.settings = settingsOf(next, fromEtcd, rejected)
	l.mu.Unlock()
	if next == prev {
		return
	}
	for _, k := range Keys {
		if v := next.Get(k); v != prev.Get(k) {
			l.log.Info("aggregator setting changed", "key", k, "value", v, "previous", prev.Get(k))
		}
	}
	l.cur.Store(&next)
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// reject logs and counts a rejected write once: a re-read after an etcd
// outage finds the same write again.
func (l *Live) reject(ctx context.Context, key, name string, e discovery.Entry, err error) {
	if l.reported[key] == e.ModRevision {
		return
	}
	l.reported[key] = e.ModRevision
	l.log.Warn("aggregator setting rejected; the last good value stays", "etcd_key", key, "reason", err)
	if !slices.Contains(Keys, name) {
		name = "unknown" // a typo must not make a new time series
	}
	l.rejected.Add(ctx, 1, metric.WithAttributes(attribute.String("key", name)))
}
