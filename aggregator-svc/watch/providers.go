// Package watch follows the aggregator's provider configuration in etcd,
// /xii/providers/ and /xii/retired/, and parses it: each change is
// delivered as the whole current set, built on discovery.Follow.
package watch

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"xii/libs/discovery"
)

// Options configure Providers and Retired. Zero fields take the defaults.
type Options struct {
	// Follow is how the prefix is followed; its Logger also receives the
	// rejected values.
	Follow discovery.FollowOptions
	// MeterProvider provides the instruments; nil means none.
	MeterProvider metric.MeterProvider
	// Rejected, if not nil, is kept up to date with the keys refused now.
	Rejected *Rejected
}

// Reasons a key is rejected, the values of the metric's reason attribute.
const (
	reasonName       = "name"       // the key's last segment is not a valid name
	reasonDescriptor = "descriptor" // the value is not a valid Descriptor
	reasonRetirement = "retirement" // the value is not a valid retirement
)

// Provider is one provider key's content. A key whose value is not a valid
// descriptor is still a provider: it is configured, only unusably, and
// Problem says why (Descriptor is then zero).
type Provider struct {
	Descriptor discovery.Descriptor
	// Value is the key's value as written, for the aggregate's record of
	// the provider.
	Value string
	// Problem is why Value is not a valid descriptor; "" when it is.
	Problem string
}

// Providers follows discovery.ProvidersPrefix until ctx ends and calls
// onChange with every provider, name to content: once after the first
// successful read, even when there are none, and again whenever the set
// changes. Keys written by hand and leased self-registrations count alike.
//
// A key whose value is not a valid descriptor is delivered with its
// Problem, logged once per write and counted in the xii.discovery.rejected
// metric; it never stops the others. A key whose last segment is not a
// valid name names no provider: it is left out, logged and counted.
//
// While etcd is unreachable onChange is not called, so the caller keeps the
// last set; see Follow, which Providers is built on, for how it retries and
// what it returns.
func Providers(ctx context.Context, cli *clientv3.Client, opts Options, onChange func(map[string]Provider)) error {
	return followNamed(ctx, cli, discovery.ProvidersPrefix, opts, reasonDescriptor, func(value string) (Provider, bool, error) {
		p := Provider{Value: value}
		d, err := discovery.ParseDescriptor([]byte(value))
		if err != nil {
			p.Problem = err.Error()
		}
		p.Descriptor = d
		return p, true, err // a bad descriptor is still a provider
	}, onChange)
}

// followNamed follows prefix and delivers its keys as name to decoded
// value, once after the first read and then on every change. A key whose
// name is invalid is left out; one whose value decode fails is logged and
// counted under reason, once per write, and delivered only when decode
// says keep.
func followNamed[T comparable](ctx context.Context, cli *clientv3.Client, prefix string, opts Options, reason string,
	decode func(value string) (v T, keep bool, err error), onChange func(map[string]T)) error {
	rejected, err := rejectedCounter(opts.MeterProvider)
	if err != nil {
		return fmt.Errorf("follow %s: %w", prefix, err)
	}
	logger := opts.Follow.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rs := &rejections{log: logger, counter: rejected, reported: map[string]int64{}}
	var last map[string]T
	return discovery.Follow(ctx, cli, prefix, opts.Follow, func(kvs map[string]discovery.Entry) {
		set := make(map[string]T, len(kvs))
		var refused []RejectedKey
		for key, e := range kvs {
			name, err := discovery.NameFromKey(prefix, key)
			if err != nil {
				rs.reject(ctx, key, e, reasonName, err)
				refused = append(refused, RejectedKey{Key: key, Value: shown(e.Value), Reason: err.Error()})
				continue
			}
			v, keep, err := decode(e.Value)
			if err != nil {
				rs.reject(ctx, key, e, reason, err)
				k := RejectedKey{Key: key, Reason: err.Error()}
				if reason != reasonDescriptor {
					k.Value = shown(e.Value)
				}
				refused = append(refused, k)
			}
			if keep {
				set[name] = v
			}
		}
		rs.forgetGone(kvs)
		opts.Rejected.set(prefix, refused)
		if last != nil && maps.Equal(set, last) {
			return
		}
		last = maps.Clone(set)
		onChange(set)
	})
}

func rejectedCounter(mp metric.MeterProvider) (metric.Int64Counter, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	c, err := mp.Meter("xii/aggregator-svc/watch").Int64Counter("xii.discovery.rejected",
		metric.WithDescription("Keys in etcd ignored or unusable for an invalid name or value, by reason."))
	if err != nil {
		return nil, fmt.Errorf("metric: %w", err)
	}
	return c, nil
}

// rejections logs and counts invalid keys, once per write: a re-read after
// an outage finds the same write again.
type rejections struct {
	log      *slog.Logger
	counter  metric.Int64Counter
	reported map[string]int64 // rejected key to the revision already reported
}

func (rs *rejections) reject(ctx context.Context, key string, e discovery.Entry, reason string, err error) {
	if rs.reported[key] == e.ModRevision {
		return
	}
	rs.reported[key] = e.ModRevision
	rs.log.Warn("etcd key rejected", "etcd_key", key, "reason", reason, "err", err)
	rs.counter.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
}

// forgetGone drops what was reported of keys no longer present, so that a
// key written again with the same bad value is reported again.
func (rs *rejections) forgetGone(kvs map[string]discovery.Entry) {
	for key, rev := range rs.reported {
		if e, ok := kvs[key]; !ok || e.ModRevision != rev {
			delete(rs.reported, key)
		}
	}
}
