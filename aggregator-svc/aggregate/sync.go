package aggregate

import (
	"context"
	"time"
)

// SyncStatus is how one provider's sync ended for one request.
type SyncStatus string

// Sync statuses, as the API reports them.
const (
	StatusOK          SyncStatus = "ok"           // caught up by a round that started after the request
	StatusTimeout     SyncStatus = "timeout"      // not caught up within the deadline
	StatusError       SyncStatus = "error"        // the provider answered something unusable, or storing failed
	StatusUnavailable SyncStatus = "unavailable"  // the provider could not be reached, or is not registered
	StatusCircuitOpen SyncStatus = "circuit_open" // recent failures: not asked at all for now
	// StatusMisconfigured: the provider is configured, but its descriptor
	// cannot be used (bad JSON, unknown dialect, a missing credential).
	StatusMisconfigured SyncStatus = "misconfigured"
)

// ProviderSync is one provider's part of a SyncReport.
type ProviderSync struct {
	Status SyncStatus `json:"status"`
	// Rows and Pages are what the round this request waited for fetched.
	Rows  int `json:"rows"`
	Pages int `json:"pages"`
	// Cursor is the position the aggregate holds for this provider.
	Cursor string `json:"cursor,omitempty"`
	// SyncedAt: the aggregate holds everything this provider acknowledged
	// before this instant. Zero if it never caught up on this replica.
	SyncedAt time.Time `json:"synced_at,omitzero"`
	// LagMS is how far SyncedAt lags behind now, in milliseconds; 0 when ok.
	LagMS int64 `json:"lag_ms"`
	// Error says briefly why the provider is not ok. Never credentials.
	Error string `json:"error,omitempty"`
}

// SyncReport is the outcome of one sync.
type SyncReport struct {
	// Complete is true when every covered provider is ok and the covered
	// set is confirmed: an answer read after this sync holds everything
	// acknowledged before it began.
	Complete  bool                    `json:"complete"`
	Providers map[string]ProviderSync `json:"providers"`
}

// Syncer brings the aggregate up to date with every provider.
type Syncer interface {
	// Sync returns once every provider is synced by a round that started
	// after the call, or ctx is done; it never fails as a whole.
	Sync(ctx context.Context) SyncReport
}
