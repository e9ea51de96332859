package discovery

import (
	"errors"
	"fmt"
	"strings"
)

// Key prefixes in etcd. Each ends in '/' and is followed by a name.
const (
	ProvidersPrefix = "/xii/providers/"
	ServicesPrefix  = "/xii/services/"
	// RetiredPrefix holds the providers taken out of the freshness
	// guarantee on purpose; see RetiredKey.
	RetiredPrefix = "/xii/retired/"
)

// MaxNameLen is the longest valid name, in bytes.
const MaxNameLen = 64

// ProviderKey returns the etcd key of the provider name.
func ProviderKey(name string) string { return ProvidersPrefix + name }

// RetiredKey returns the etcd key that retires the provider name: the
// aggregator stops covering it, and keeps or deletes its rows as the value
// says (RetireKeep or RetireDelete).
func RetiredKey(name string) string { return RetiredPrefix + name }

// Values of a retired key. An empty value keeps the rows.
const (
	RetireKeep   = "keep"
	RetireDelete = "delete"
)

// ServiceKey returns the etcd key of the internal service name.
func ServiceKey(name string) string { return ServicesPrefix + name }

// ValidateName reports whether name can be the last segment of a key: 1 to
// MaxNameLen letters, digits, '-', '_' or '.', not starting with '.'.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case len(name) > MaxNameLen:
		return fmt.Errorf("name is longer than %d bytes", MaxNameLen)
	case name[0] == '.':
		return fmt.Errorf("name %q starts with '.'", name)
	}
	for _, c := range name {
		if !nameChar(c) {
			return fmt.Errorf("name %q contains %q; use letters, digits, '-', '_' or '.'", name, c)
		}
	}
	return nil
}

// NameFromKey returns the name of key under prefix, for watchers of a
// prefix. It fails for keys outside prefix, nested keys and invalid names.
func NameFromKey(prefix, key string) (string, error) {
	name, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", fmt.Errorf("key %q is not under %q", key, prefix)
	}
	if err := ValidateName(name); err != nil {
		return "", fmt.Errorf("key %q: %w", key, err)
	}
	return name, nil
}

func nameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}
