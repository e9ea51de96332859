package roster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/roster"
	"xii/aggregator-svc/syncer"
	"xii/aggregator-svc/watch"
	"xii/libs/discovery"
	"xii/testkit/wait"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memStore is the store's record in memory; the PostgreSQL store has its
// own tests. fail makes every write fail.
type memStore struct {
	mu      sync.Mutex
	known   map[string]aggregate.KnownProvider
	retires []string // "name:drop" per RetireProvider
	fail    bool
}

func (m *memStore) KnownProviders(context.Context) ([]aggregate.KnownProvider, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ks []aggregate.KnownProvider
	for _, k := range m.known {
		ks = append(ks, k)
	}
	return ks, nil
}

func (m *memStore) RememberProvider(_ context.Context, name, d string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("store down")
	}
	m.known[name] = aggregate.KnownProvider{Name: name, Descriptor: d}
	return nil
}

func (m *memStore) RetireProvider(_ context.Context, name string, drop bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("store down")
	}
	k := m.known[name]
	k.Name, k.Retired = name, true
	m.known[name] = k
	m.retires = append(m.retires, fmt.Sprintf("%s:%v", name, drop))
	return nil
}

func (m *memStore) setFail(f bool) { m.mu.Lock(); m.fail = f; m.mu.Unlock() }

// sets records what the roster applies and lets a test wait for a state.
type sets struct {
	mu      sync.Mutex
	last    syncer.Set
	changed chan struct{}
}

func (s *sets) apply(set syncer.Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = set
	close(s.changed)
	s.changed = make(chan struct{})
}

// summary is a set as "name=state" sorted, with Confirmed first.
func summary(set syncer.Set) []string {
	out := []string{fmt.Sprintf("confirmed=%v", set.Confirmed)}
	var ps []string
	for _, src := range set.Sources {
		ps = append(ps, src.Name+"=sync")
	}
	for _, m := range set.Missing {
		ps = append(ps, m.Name+"="+string(m.Status))
	}
	slices.Sort(ps)
	return append(out, ps...)
}

func (s *sets) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		got, ch := summary(s.last), s.changed
		s.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("set %v, want %v", got, want)
		}
	}
}

func start(t *testing.T, store *memStore) (*roster.Roster, *sets) {
	t.Helper()
	rec := &sets{changed: make(chan struct{})}
	r, err := roster.New(roster.Options{
		Store: store,
		Build: func(name string, d discovery.Descriptor) (syncer.Source, error) {
			if d.Dialect == discovery.DialectTypeform {
				return syncer.Source{}, errors.New("typeform needs an access token")
			}
			return syncer.Source{Name: name, Version: d.URL}, nil
		},
		Apply:       rec.apply,
		ConfirmWait: time.Hour,
		RetryMax:    20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r, rec
}

func xii(url string) watch.Provider {
	return watch.Provider{Descriptor: discovery.Descriptor{URL: url, Dialect: discovery.DialectXII}, Value: url}
}

func TestRosterCoversKnownProviders(t *testing.T) {
	store := &memStore{known: map[string]aggregate.KnownProvider{
		"old":     {Name: "old", Descriptor: "http://old"},
		"retired": {Name: "retired", Retired: true},
	}}
	r, rec := start(t, store)

	// Before etcd is read: the record's providers, unconfirmed.
	rec.waitFor(t, "confirmed=false", "old=unavailable")
	if r.Ready(t.Context()) == nil {
		t.Error("ready before etcd was read")
	}

	r.SetProviders(map[string]watch.Provider{
		"old": xii("http://old"), "new": xii("http://new"),
		"bad": {Value: `{"url":`, Problem: "parse descriptor: unexpected end of JSON input"},
		"tf":  {Descriptor: discovery.Descriptor{URL: "https://api.typeform.com/forms/x", Dialect: discovery.DialectTypeform}, Value: "tf"},
	})
	rec.waitFor(t, "confirmed=false", "bad=misconfigured", "new=unavailable", "old=sync", "tf=misconfigured")
	select {
	case <-r.Confirmed():
		t.Fatal("confirmed before /xii/retired/ was read")
	default:
	}
	r.SetRetired(map[string]watch.Retirement{})
	// new is synced only once recorded.
	rec.waitFor(t, "confirmed=true", "bad=misconfigured", "new=sync", "old=sync", "tf=misconfigured")
	<-r.Confirmed()
	if err := r.Ready(t.Context()); err != nil {
		t.Errorf("not ready once confirmed: %v", err)
	}

	// A provider gone from etcd is covered, unavailable.
	r.SetProviders(map[string]watch.Provider{"old": xii("http://old"), "new": xii("http://new")})
	rec.waitFor(t, "confirmed=true", "bad=unavailable", "new=sync", "old=sync", "tf=unavailable")

	// Retirement takes it out, in the store too.
	r.SetRetired(map[string]watch.Retirement{"bad": {}, "tf": {DropRows: true}})
	rec.waitFor(t, "confirmed=true", "new=sync", "old=sync")
	wait.For(t, "bad and tf retired in the store", func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return slices.Contains(store.retires, "bad:false") && slices.Contains(store.retires, "tf:true")
	})

	// A provider retired in the store is back when configured without a
	// retired key.
	r.SetProviders(map[string]watch.Provider{"old": xii("http://old"), "new": xii("http://new"), "retired": xii("http://r")})
	rec.waitFor(t, "confirmed=true", "new=sync", "old=sync", "retired=sync")
}

func TestRosterStoreDown(t *testing.T) {
	store := &memStore{known: map[string]aggregate.KnownProvider{"old": {Name: "old", Descriptor: "http://old"}}}
	r, rec := start(t, store)
	store.setFail(true)
	r.SetRetired(map[string]watch.Retirement{})
	r.SetProviders(map[string]watch.Provider{"old": xii("http://old"), "new": xii("http://new")})
	// Unrecorded, new is not synced: a restart could forget it.
	rec.waitFor(t, "confirmed=true", "new=unavailable", "old=sync")
	store.setFail(false)
	rec.waitFor(t, "confirmed=true", "new=sync", "old=sync")
}
