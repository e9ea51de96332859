package watch

import (
	"context"
	"fmt"
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
	return followNamed(ctx, cli, discovery.RetiredPrefix, opts, reasonRetirement, func(value string) (Retirement, bool, error) {
		r, err := ParseRetirement(value)
		return r, err == nil, err
	}, onChange)
}
