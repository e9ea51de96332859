// Package tuning holds the aggregator's live settings: their defaults, their
// bounds, and how a value set with etcdctl is parsed.
package tuning

import (
	"fmt"
	"strconv"
	"time"
)

// Prefix is the etcd prefix of the aggregator's settings; the key of
// fetch_timeout is Prefix + "fetch_timeout".
const Prefix = "/xii/config/aggregator/"

// Tuning is one consistent set of settings.
type Tuning struct {
	// FetchTimeout bounds each page request to a provider (the caller's
	// deadline may cut it shorter).
	FetchTimeout time.Duration
	// PollInterval is how often the leader syncs every provider without
	// being asked.
	PollInterval time.Duration
	// PageSize is how many records a page request asks for.
	PageSize int
	// MaxConcurrency bounds the page requests in flight across providers.
	MaxConcurrency int
}

// Defaults are used for every key absent from etcd.
func Defaults() Tuning {
	return Tuning{
		FetchTimeout:   2 * time.Second,
		PollInterval:   5 * time.Second,
		PageSize:       1000,
		MaxConcurrency: 16,
	}
}

// Keys are the settings' names under Prefix.
var Keys = []string{"fetch_timeout", "poll_interval", "page_size", "max_concurrency"}

// Set returns t with the setting key parsed from value. An unknown key or a
// value out of bounds is an error naming the key and the bounds; t is then
// returned unchanged.
func (t Tuning) Set(key, value string) (Tuning, error) {
	switch key {
	case "fetch_timeout":
		d, err := duration(key, value, 10*time.Millisecond, time.Minute)
		if err != nil {
			return t, err
		}
		t.FetchTimeout = d
	case "poll_interval":
		d, err := duration(key, value, 100*time.Millisecond, time.Hour)
		if err != nil {
			return t, err
		}
		t.PollInterval = d
	case "page_size":
		n, err := integer(key, value, 1, 1000)
		if err != nil {
			return t, err
		}
		t.PageSize = n
	case "max_concurrency":
		n, err := integer(key, value, 1, 1024)
		if err != nil {
			return t, err
		}
		t.MaxConcurrency = n
	default:
		return t, fmt.Errorf("%s: unknown setting (known: %v)", key, Keys)
	}
	return t, nil
}

// Get returns the setting key formatted as Set accepts it.
func (t Tuning) Get(key string) string {
	switch key {
	case "fetch_timeout":
		return t.FetchTimeout.String()
	case "poll_interval":
		return t.PollInterval.String()
	case "page_size":
		return strconv.Itoa(t.PageSize)
	case "max_concurrency":
		return strconv.Itoa(t.MaxConcurrency)
	}
	return ""
}

func duration(key, value string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("%s: %q is not a duration between %v and %v", key, value, lo, hi)
	}
	return d, nil
}

func integer(key, value string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: %q is not an integer between %d and %d", key, value, lo, hi)
	}
	return n, nil
}
