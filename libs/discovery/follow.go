package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/backoff"
)

// Defaults for a FollowOptions' zero fields.
const (
	DefaultFollowTimeout    = 3 * time.Second
	DefaultFollowRetryMax   = 2 * time.Second
	DefaultProgressInterval = 5 * time.Second
	DefaultProgressMisses   = 2
)

// FollowOptions configure Follow. Zero fields take the defaults.
type FollowOptions struct {
	// Logger receives warnings about failed reads; nil discards them.
	Logger *slog.Logger
	// RequestTimeout bounds each read of the prefix.
	RequestTimeout time.Duration
	// RetryMax caps the delay between attempts to read and watch again.
	RetryMax time.Duration
	// ProgressInterval is how often etcd is asked to confirm that the
	// watch is alive.
	ProgressInterval time.Duration
	// ProgressMisses is how many intervals in a row may pass without a
	// word from the watch before it is given up and the prefix read again.
	// One is not enough on a machine starved of CPU, where an answer can
	// come a little late.
	ProgressMisses int

	// requestProgress replaces the progress request, for tests.
	requestProgress func(ctx context.Context) error
}

func (o FollowOptions) withDefaults() FollowOptions {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultFollowTimeout
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultFollowRetryMax
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	if o.ProgressMisses <= 0 {
		o.ProgressMisses = DefaultProgressMisses
	}
	return o
}

// Entry is the value of one key and the revision that last wrote it.
type Entry struct {
	Value       string
	ModRevision int64
	Lease       int64 // 0 for a key without a lease
}

// Follow follows one key prefix in etcd and hands every change to a
// callback as the prefix's whole current content.
//
// Following is a read of the prefix, then a watch from the revision after
// that read. When the watch fails (the member lost its leader, the revision
// was compacted, the stream closed) or goes quiet (nothing from the watch,
// not even an answer to a progress request, for ProgressMisses intervals
// in a row) the prefix is read and watched
// again, with a capped backoff. While etcd is out of reach nothing is
// delivered, so callers keep what they last saw; when etcd is back, the
// client's watch resumes where it stopped, or the next read catches up.
//
// The etcd client is the caller's; NewClient makes one that reconnects
// quickly after an outage and pings, so a dead connection is noticed.
//
// Follow calls onChange with the content of prefix, key to entry, after the
// first successful read and after every change, until ctx ends; then it
// returns nil. A re-read after a failure calls onChange only when it finds
// something changed; this is how changes made while the watch was down are
// caught up, even when etcd has compacted them from its history. onChange runs on Follow's goroutine, one call at a time,
// and owns the map it is given. Follow never gives up because etcd is
// unreachable; it fails only for invalid arguments, or when cli is closed
// before ctx ends.
func Follow(ctx context.Context, cli *clientv3.Client, prefix string, opts FollowOptions, onChange func(map[string]Entry)) error {
	if cli == nil || prefix == "" || onChange == nil {
		return errors.New("follow: client, prefix and callback are required")
	}
	f := &follower{cli: cli, prefix: prefix, opts: opts.withDefaults(), onChange: onChange}
	f.log = f.opts.Logger.With("etcd_prefix", prefix)
	failures := 0
	for {
		if !backoff.Wait(ctx, failures, retryMin, f.opts.RetryMax) {
			return nil
		}
		read, err := f.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if cli.Ctx().Err() != nil {
			return fmt.Errorf("follow %s: client closed: %w", prefix, err)
		}
		if read {
			failures = 0
		}
		failures++
		f.failing = true
		f.log.Warn("etcd prefix not followed; keeping the last known content", "err", err, "failures", failures)
	}
}

// follower is one Follow call.
type follower struct {
	cli      *clientv3.Client
	prefix   string
	opts     FollowOptions
	log      *slog.Logger
	onChange func(map[string]Entry)
	last     map[string]Entry // nil until the first read
	failing  bool             // since the last failure, until a read succeeds
}

// follow reads the prefix, delivers it when it changed and watches it until
// the watch fails. It reports whether the read succeeded, and why it ended.
func (f *follower) follow(ctx context.Context) (read bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, f.opts.RequestTimeout)
	resp, err := f.cli.Get(rctx, f.prefix, clientv3.WithPrefix())
	cancel()
	if err != nil {
		return false, fmt.Errorf("read prefix: %w", err)
	}
	if f.failing {
		f.failing = false
		f.log.Info("etcd prefix read again", "revision", resp.Header.Revision)
	}
	cur := make(map[string]Entry, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		cur[string(kv.Key)] = entry(kv)
	}
	if f.last == nil || !maps.Equal(cur, f.last) {
		f.deliver(cur)
	}

	// Without a leader a member serves no new writes; requiring one makes
	// a partitioned member end the watch instead of stalling it silently.
	wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer wcancel()
	// Watch waits for a connected stream; bound that wait like a read.
	timer := time.AfterFunc(f.opts.RequestTimeout, wcancel)
	// The watch starts at the read's own revision, not the one after: etcd
	// answers no progress request for a watch that starts in the future,
	// and the follower would take its silence for a dead watch. Events of
	// that revision are already in cur; applying them again changes
	// nothing, and nothing unchanged is delivered.
	wch := f.cli.Watch(wctx, f.prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision))
	if !timer.Stop() {
		return true, fmt.Errorf("watch prefix: not started within %s", f.opts.RequestTimeout)
	}
	tick := time.NewTicker(f.opts.ProgressInterval)
	defer tick.Stop()
	// Progress is requested off this loop, so that the loop keeps reading
	// the watch while a request is slow; at most one is in flight.
	var asking sync.WaitGroup
	defer func() { wcancel(); asking.Wait() }() // the cancel ends a request in flight
	var inFlight atomic.Bool
	heard, silent := true, 0
	for {
		select {
		case wr, ok := <-wch:
			if err := f.receive(cur, wr, ok); err != nil {
				return true, err
			}
			heard = true
		case <-tick.C:
			// A starved process finds the tick and etcd's answer ready
			// together, and select picks either: read what the watch has
			// before judging it silent.
			for drained := false; !drained; {
				select {
				case wr, ok := <-wch:
					if err := f.receive(cur, wr, ok); err != nil {
						return true, err
					}
					heard = true
				default:
					drained = true
				}
			}
			if heard {
				silent = 0
			} else if silent++; silent >= f.opts.ProgressMisses {
				return true, fmt.Errorf("watch prefix: no progress from etcd within %s (%d intervals of %s)",
					time.Duration(silent)*f.opts.ProgressInterval, silent, f.opts.ProgressInterval)
			}
			heard = false
			if inFlight.CompareAndSwap(false, true) {
				asking.Go(func() {
					defer inFlight.Store(false)
					f.requestProgress(wctx)
				})
			}
		}
	}
}

// receive handles one receive from the watch channel.
func (f *follower) receive(cur map[string]Entry, wr clientv3.WatchResponse, ok bool) error {
	if !ok {
		return errors.New("watch prefix: channel closed")
	}
	if err := wr.Err(); err != nil {
		return fmt.Errorf("watch prefix: %w", err)
	}
	if len(wr.Events) > 0 {
		f.apply(cur, wr.Events)
	}
	return nil
}

// apply applies events to cur and delivers the result if it changed.
func (f *follower) apply(cur map[string]Entry, events []*clientv3.Event) {
	for _, ev := range events {
		switch ev.Type {
		case mvccpb.Event_PUT:
			cur[string(ev.Kv.Key)] = entry(ev.Kv)
		case mvccpb.Event_DELETE:
			delete(cur, string(ev.Kv.Key))
		}
	}
	if !maps.Equal(cur, f.last) {
		f.deliver(cur)
	}
}

// requestProgress asks etcd to answer on the watch of wctx even when
// nothing changed. Failure is not reported here: the missing answer is.
func (f *follower) requestProgress(wctx context.Context) {
	ctx, cancel := context.WithTimeout(wctx, f.opts.RequestTimeout)
	defer cancel()
	request := f.cli.RequestProgress
	if f.opts.requestProgress != nil {
		request = f.opts.requestProgress
	}
	if err := request(ctx); err != nil {
		f.log.Debug("etcd progress request failed", "err", err)
	}
}

// deliver hands a copy of cur to the callback and remembers it.
func (f *follower) deliver(cur map[string]Entry) {
	f.last = maps.Clone(cur)
	f.onChange(maps.Clone(cur))
}

func entry(kv *mvccpb.KeyValue) Entry {
	return Entry{Value: string(kv.Value), ModRevision: kv.ModRevision, Lease: kv.Lease}
}
