package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/backoff"
)

// Defaults for an ElectionConfig's zero fields.
const (
	DefaultElectionPrefix   = "/xii/election/aggregator-poll"
	DefaultElectionTTL      = 10 * time.Second
	DefaultElectionTimeout  = 3 * time.Second
	DefaultElectionRetryMax = 2 * time.Second
)

// ElectionConfig configures an Elector. Zero fields take the defaults.
type ElectionConfig struct {
	// Prefix is the election's key prefix; candidates' keys are below it.
	Prefix string
	// ID names the candidate, for logs and for etcdctl get --prefix; the
	// host name is a good choice. Required.
	ID string
	// TTL is the session's lease TTL: how long a replica that vanished
	// keeps the leadership, and how long one cut off from etcd may go on
	// believing it leads. etcd counts whole seconds, so it is rounded up.
	TTL time.Duration
	// RequestTimeout bounds each request to etcd.
	RequestTimeout time.Duration
	// RetryMax caps the delay between failed campaigns.
	RetryMax time.Duration
	// Logger receives leadership changes; nil discards them.
	Logger *slog.Logger
}

func (cfg ElectionConfig) withDefaults() (ElectionConfig, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultElectionPrefix
	}
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	if cfg.ID == "" {
		return cfg, errors.New("leader id: empty")
	}
	if cfg.TTL < 0 || cfg.RequestTimeout < 0 || cfg.RetryMax < 0 {
		return cfg, errors.New("leader durations: negative")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultElectionTTL
	}
	if rem := cfg.TTL % time.Second; rem != 0 {
		cfg.TTL += time.Second - rem
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultElectionTimeout
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = DefaultElectionRetryMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// Elector is one candidate in an election that picks one of a service's
// replicas, through etcd, to do what only one should do at a time, such as
// the aggregator's background poll.
//
// Each replica campaigns under a lease (an etcd concurrency session); the
// candidate whose key is oldest leads until its lease ends. A replica cut
// off from etcd stops believing it leads before its lease can have expired
// in etcd, so two replicas never both believe they lead, as long as their
// clocks run at the same rate: leadership counts from the moment the last
// renewal of the lease was sent, not from when it was answered.
type Elector struct {
	cli     *clientv3.Client
	cfg     ElectionConfig
	log     *slog.Logger
	epoch   time.Time    // for monotonic offsets
	until   atomic.Int64 // leads until epoch plus this many nanoseconds; 0 when not
	started atomic.Bool
}

// NewElector returns a candidate that campaigns through cli once Run is
// called.
func NewElector(cli *clientv3.Client, cfg ElectionConfig) (*Elector, error) {
	if cli == nil {
		return nil, errors.New("new elector: no etcd client")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new elector: %w", err)
	}
	return &Elector{cli: cli, cfg: cfg, log: cfg.Logger.With("election", cfg.Prefix, "candidate", cfg.ID), epoch: time.Now()}, nil
}

// IsLeader reports whether this candidate leads now. It takes no lock. It
// turns false by itself once the lease can no longer be known to be alive,
// even while Run is blocked on an unreachable etcd.
func (e *Elector) IsLeader() bool {
	u := e.until.Load()
	return u > 0 && e.now() < time.Duration(u)
}

// Run campaigns until ctx ends, leading whenever elected, and campaigns
// again with a new session whenever the session is lost (etcd unreachable
// for a TTL, the lease revoked, the key deleted). When ctx ends it resigns,
// so another candidate takes over at once, and returns nil. It never fails
// because etcd is unreachable. It may be called once.
func (e *Elector) Run(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("elector run: already started")
	}
	failures := 0
	for {
		if !backoff.Wait(ctx, failures, retryMin, e.cfg.RetryMax) {
			return nil
		}
		start := time.Now()
		err := e.term(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) >= e.cfg.TTL {
			failures = 0
		}
		failures++
		e.log.Warn("election term ended; campaigning again", "err", err, "failures", failures)
	}
}

// now is the time since e.epoch, on the monotonic clock.
func (e *Elector) now() time.Duration { return time.Since(e.epoch) }

// lead records that e leads until valid, a time since e.epoch; 0 means it
// does not lead.
func (e *Elector) lead(valid time.Duration) { e.until.Store(int64(valid)) }
