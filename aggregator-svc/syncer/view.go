package syncer

import (
	"slices"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"

	"xii/aggregator-svc/aggregate"
)

// ProviderState is what this replica knows of one covered provider, for an
// operator: no round is run to learn it.
type ProviderState struct {
	Name, Dialect string
	// URL is the provider's descriptor URL ("" for a provider that is not
	// synced now); descriptors hold no credentials.
	URL string
	// Status and Error are how the last round ended, or why the provider is
	// not synced at all; Status is "" before its first round.
	Status aggregate.SyncStatus
	Error  string
	// LastRound is when the last round ended; zero before the first.
	LastRound time.Time
	// SyncedAt: everything the provider acknowledged before it is stored;
	// zero if it never caught up on this replica.
	SyncedAt    time.Time
	Breaker     string // closed, half-open or open; "" when not synced now
	Quarantined int
}

// Providers returns the state of every covered provider, by name.
func (s *Syncer) Providers() []ProviderState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProviderState, 0, len(s.providers)+len(s.missing))
	for name, p := range s.providers {
		p.mu.Lock()
		st := ProviderState{
			Name: name, Dialect: p.src.Dialect, URL: p.src.URL,
			Status: p.last.status, Error: p.last.err, LastRound: p.last.at,
			SyncedAt: p.syncedAt, Breaker: breakerName(p.breaker.State()), Quarantined: p.quarantined,
		}
		p.mu.Unlock()
		out = append(out, st)
	}
	for _, m := range s.missing {
		out = append(out, ProviderState{Name: m.Name, Status: m.Status, Error: m.Reason, SyncedAt: s.lastSynced[m.Name]})
	}
	slices.SortFunc(out, func(a, b ProviderState) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func breakerName(st gobreaker.State) string {
	switch st {
	case gobreaker.StateOpen:
		return "open"
	case gobreaker.StateHalfOpen:
		return "half-open"
	}
	return "closed"
}
