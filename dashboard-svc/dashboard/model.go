package dashboard

import (
	"encoding/json"
	"slices"
	"time"
)

// Response is one aggregated survey response, as the aggregator stores it.
type Response struct {
	Provider   string          `json:"provider"`
	ProviderID string          `json:"provider_id"`
	Survey     string          `json:"survey"`
	Text       string          `json:"text"`
	Device     string          `json:"device"`
	Location   string          `json:"location"`
	Answers    json.RawMessage `json:"answers,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

// SyncStatus is how one provider's sync ended for one request.
type SyncStatus string

// Sync statuses, as the aggregator reports them.
const (
	StatusOK          SyncStatus = "ok"           // synced by a round that started after the request
	StatusTimeout     SyncStatus = "timeout"      // not synced within the deadline
	StatusError       SyncStatus = "error"        // the provider answered something unusable
	StatusUnavailable SyncStatus = "unavailable"  // the provider could not be reached, or is not registered
	StatusCircuitOpen SyncStatus = "circuit_open" // recent failures: not asked for now
	// StatusMisconfigured: its descriptor in etcd cannot be used.
	StatusMisconfigured SyncStatus = "misconfigured"
)

// ProviderSync is one provider's part of a SyncReport.
type ProviderSync struct {
	Status SyncStatus `json:"status"`
	// Rows and Pages are what the sync this answer waited for fetched.
	Rows  int `json:"rows"`
	Pages int `json:"pages"`
	// Cursor is the provider position the aggregate holds.
	Cursor string `json:"cursor,omitempty"`
	// SyncedAt: the aggregate holds everything the provider acknowledged
	// before this instant.
	SyncedAt time.Time `json:"synced_at,omitzero"`
	// LagMS is how far SyncedAt lags behind the answer, in milliseconds.
	LagMS int64 `json:"lag_ms"`
	// Error says briefly why the provider is not ok.
	Error string `json:"error,omitempty"`
}

// SyncReport says how fresh an answer is. Complete is true only when every
// provider is ok: the answer then holds every response acknowledged by any
// provider before the request arrived.
type SyncReport struct {
	Complete  bool                    `json:"complete"`
	Providers map[string]ProviderSync `json:"providers"`
}

// Incomplete returns the names of the providers that are not ok, sorted.
func (r SyncReport) Incomplete() []string {
	var names []string
	for name, p := range r.Providers {
		if p.Status != StatusOK {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Page is one page of responses with the sync it was read after.
// NextCursor is empty on the last page.
type Page struct {
	Responses  []Response
	NextCursor string
	Sync       SyncReport
}

// Group is the count of one combination of the grouped dimensions.
type Group struct {
	Key   map[string]string `json:"key"`
	Count int64             `json:"count"`
}

// Stats are the counts of a StatsQuery: Groups largest first, Total every
// matching response, read after Sync.
type Stats struct {
	Groups []Group
	Total  int64
	Sync   SyncReport
}
