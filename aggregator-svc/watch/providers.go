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

// Reasons a provider key is rejected, the values of the metric's reason
// attribute.
const (
	reasonName       = "name"       // the key's last segment is not a valid name
	reasonDescriptor = "descriptor" // the value is not a valid Descriptor
)

// Providers follows discovery.ProvidersPrefix until ctx ends and calls
// onChange with every valid provider, name to descriptor: once after the
// first successful read, even when there are none, and again whenever the
// set changes. Keys written by hand and leased self-registrations count
// alike.
//
// A key with an invalid name or descriptor is left out of the set, logged
// once per write and counted in the xii.discovery.rejected metric; it never
// stops the others. Leaving it out rather than keeping its previous value
// means every replica, whenever it started, sees the same set.
//
// While etcd is unreachable onChange is not called, so the caller keeps the
// last set; see Follow, which Providers is built on, for how it retries and
// what it returns.
func Providers(ctx context.Context, cli *clientv3.Client, opts Options, onChange func(map[string]discovery.Descriptor)) error {
	opts = opts.withDefaults()
	mp := opts.MeterProvider
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	rejected, err := mp.Meter("xii/aggregator-svc/watch").Int64Counter("xii.discovery.rejected",
		metric.WithDescription("Provider keys in etcd ignored for an invalid name or descriptor, by reason."))
	if err != nil {
		return fmt.Errorf("providers: metric: %w", err)
	}
	ps := &providerSet{
		log:      opts.Logger,
		rejected: rejected,
		reported: map[string]int64{},
		onChange: onChange,
	}
	return Follow(ctx, cli, discovery.ProvidersPrefix, opts, func(kvs map[string]Entry) {
		ps.update(ctx, kvs)
	})
}

// providerSet turns the content of the providers prefix into descriptors.
type providerSet struct {
	log      *slog.Logger
	rejected metric.Int64Counter
	reported map[string]int64 // rejected key to the revision already reported
	onChange func(map[string]discovery.Descriptor)
	last     map[string]discovery.Descriptor // nil until the first delivery
}

func (ps *providerSet) update(ctx context.Context, kvs map[string]Entry) {
	set := make(map[string]discovery.Descriptor, len(kvs))
	for key, e := range kvs {
		name, d, reason, err := decode(key, e)
		if err != nil {
			ps.reject(ctx, key, e, reason, err)
			continue
		}
		delete(ps.reported, key)
		set[name] = d
	}
	for key := range ps.reported {
		if _, ok := kvs[key]; !ok {
			delete(ps.reported, key)
		}
	}
	if ps.last != nil && maps.Equal(set, ps.last) {
		return
	}
	ps.last = maps.Clone(set)
	ps.onChange(set)
}

// reject logs and counts an invalid key, once per write: a re-read after
// an outage finds the same write again.
func (ps *providerSet) reject(ctx context.Context, key string, e Entry, reason string, err error) {
	if ps.reported[key] == e.ModRevision {
		return
	}
	ps.reported[key] = e.ModRevision
	ps.log.Warn("provider key ignored", "provider_key", key, "reason", reason, "err", err)
	ps.rejected.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
}

// decode returns the name and descriptor of a provider key, or the reason
// it is invalid and the error.
func decode(key string, e Entry) (string, discovery.Descriptor, string, error) {
	name, err := discovery.NameFromKey(discovery.ProvidersPrefix, key)
	if err != nil {
		return "", discovery.Descriptor{}, reasonName, err
	}
	d, err := discovery.ParseDescriptor([]byte(e.Value))
	if err != nil {
		return "", discovery.Descriptor{}, reasonDescriptor, err
	}
	return name, d, "", nil
}
