package watch

import (
	"context"
	"fmt"
	"maps"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/libs/discovery"
)

// Retirement is one key under discovery.RetiredPrefix: the provider it
// names is out of the freshness guarantee, and its rows are deleted when
// DropRows is set.
type Retirement struct {
	DropRows bool
}

// ParseRetirement reads a retired key's value: "" or discovery.RetireKeep
// keeps the provider's rows, discovery.RetireDelete deletes them. Anything
// else is an error; deleting data on a typo would be worse than not
// retiring.
func ParseRetirement(value string) (Retirement, error) {
	switch strings.TrimSpace(value) {
	case "", discovery.RetireKeep:
		return Retirement{}, nil
	case discovery.RetireDelete:
		return Retirement{DropRows: true}, nil
	}
	return Retirement{}, fmt.Errorf("retirement: value must be %q or %q", discovery.RetireKeep, discovery.RetireDelete)
}

// Retired follows discovery.RetiredPrefix until ctx ends and calls
// onChange with every valid retirement, name to value, as Providers does
// for providers: once after the first successful read and again on every
// change. An invalid key or value is left out (the provider stays
// covered), logged once per write and counted under reason "retirement".
func Retired(ctx context.Context, cli *clientv3.Client, opts Options, onChange func(map[string]Retirement)) error {
	opts = opts.withDefaults()
	rejected, err := rejectedCounter(opts.MeterProvider)
	if err != nil {
		return fmt.Errorf("retired: %w", err)
	}
	rs := &rejections{log: opts.Logger, counter: rejected, reported: map[string]int64{}}
	var last map[string]Retirement
	return Follow(ctx, cli, discovery.RetiredPrefix, opts, func(kvs map[string]Entry) {
		set := make(map[string]Retirement, len(kvs))
		for key, e := range kvs {
			name, err := discovery.NameFromKey(discovery.RetiredPrefix, key)
			if err != nil {
				rs.reject(ctx, key, e, reasonName, err)
				continue
			}
			r, err := ParseRetirement(e.Value)
			if err != nil {
				rs.reject(ctx, key, e, reasonRetirement, err)
				continue
			}
			set[name] = r
		}
		rs.forgetGone(kvs)
		if last != nil && maps.Equal(set, last) {
			return
		}
		last = maps.Clone(set)
		onChange(set)
	})
}
