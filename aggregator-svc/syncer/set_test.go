package syncer

import (
	"context"
	"testing"

	"xii/libs/xiiapi"
)

// TestSyncCoversTheWholeSet: a Sync is Complete only over a confirmed set
// whose every provider is synced; an empty set is complete only when it is
// known to be empty; missing providers are named with their reason and
// their last sync time.
func TestSyncCoversTheWholeSet(t *testing.T) {
	s := newTestSyncer(t, newMemStore(), true, testTuning())
	ctx := context.Background()
	if rep := s.Sync(ctx); rep.Complete {
		t.Fatalf("a new syncer's empty, unconfirmed set: %+v, want incomplete", rep)
	}
	s.SetProviders(Set{Confirmed: true})
	if rep := s.Sync(ctx); !rep.Complete || len(rep.Providers) != 0 {
		t.Fatalf("a confirmed empty set: %+v, want complete", rep)
	}

	s.SetProviders(Set{Confirmed: true, Sources: []Source{{Name: "blue", Version: "1", Source: &fakeSource{n: 2}}}})
	if rep := s.Sync(ctx); !rep.Complete {
		t.Fatalf("one healthy provider: %+v", rep)
	}
	s.SetProviders(Set{Confirmed: true, Missing: []Missing{
		{Name: "blue", Status: xiiapi.StatusUnavailable, Reason: "not registered"},
		{Name: "odd", Status: xiiapi.StatusMisconfigured, Reason: "unknown dialect"},
	}})
	rep := s.Sync(ctx)
	blue, odd := rep.Providers["blue"], rep.Providers["odd"]
	if rep.Complete || blue.Status != xiiapi.StatusUnavailable || blue.Error != "not registered" ||
		odd.Status != xiiapi.StatusMisconfigured || odd.Error != "unknown dialect" {
		t.Fatalf("missing providers: %+v", rep)
	}
	if blue.SyncedAt.IsZero() || !odd.SyncedAt.IsZero() {
		t.Errorf("synced_at: blue %v (synced before), odd %v (never); want only blue's set", blue.SyncedAt, odd.SyncedAt)
	}

	s.SetProviders(Set{Sources: []Source{{Name: "blue", Version: "1", Source: &fakeSource{n: 2}}}})
	if rep := s.Sync(ctx); rep.Complete || rep.Providers["blue"].Status != xiiapi.StatusOK {
		t.Fatalf("an unconfirmed set with a healthy provider: %+v, want blue ok but incomplete", rep)
	}
}
