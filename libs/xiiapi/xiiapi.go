// Package xiiapi is the wire contract between dashboard-svc and
// aggregator-svc: the answer bodies and the sync report in them, the
// routes, the headers and the error codes. Both sides use these types,
// the aggregator to encode and the dashboard's client to decode, so the
// contract exists once (as etcd keeps its wire types in its api module).
//
// The package holds data and names only: no HTTP, no driver, no logic
// beyond what the types themselves mean.
package xiiapi

import (
	"encoding/json"
	"slices"
	"time"
)

// Routes of the aggregator's API.
const (
	ResponsesPath = "/api/v1/responses"
	StatsPath     = "/api/v1/stats"
	SyncPath      = "/api/v1/sync"
	ProvidersPath = "/api/v1/providers"
)

// Headers.
const (
	// SyncCompleteHeader carries SyncReport.Complete on every answer of a
	// sync-backed route ("true" or "false"); an error answer says "false".
	SyncCompleteHeader = "X-Sync-Complete"
	// SyncMissingHeader names, comma-separated, the providers that are
	// not ok (SyncReport.Incomplete) on every answer of a sync-backed
	// route; it is empty when the answer is complete.
	SyncMissingHeader = "X-Sync-Missing"
	// RequestTimeoutHeader asks for a deadline, as a Go duration ("1500ms").
	RequestTimeoutHeader = "Request-Timeout"
)

// Error codes: the "code" of an error body, which clients map errors by.
const (
	CodeInvalidRequest   = "invalid_request"
	CodeUnauthorized     = "unauthorized"
	CodeRateLimited      = "rate_limited"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTimeout          = "timeout"
	CodeCanceled         = "canceled"
	CodeInternal         = "internal"
	// CodeStoreUnavailable: the aggregator cannot reach its database (a
	// restart, a failover); another replica, or a retry shortly, may.
	CodeStoreUnavailable = "store_unavailable"
	// CodeAggregatorUnavailable and CodeBadGateway are the dashboard's
	// own: no replica answered, or one answered something unusable.
	CodeAggregatorUnavailable = "aggregator_unavailable"
	CodeBadGateway            = "bad_gateway"
)

// Response is one aggregated survey response.
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

// Group is the count of one combination of the grouped dimensions. Key
// maps each dimension to its value; TimeDimension to the bucket's TimeKey.
type Group struct {
	Key   map[string]string `json:"key"`
	Count int64             `json:"count"`
}

// SyncStatus is how one provider's sync ended for one request.
type SyncStatus string

// Sync statuses.
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
	// Quarantined counts the provider's records the aggregate set aside
	// because it cannot hold them (see the operations guide); they are in
	// no answer until the provider sends them fixed.
	Quarantined int `json:"quarantined,omitempty"`
	// VisibleAfterMS is the provider's documented visibility delay, in
	// milliseconds: a response it acknowledged may take this long to
	// appear in its API, so ok means "every response the provider's API
	// could show when the round started". 0 for xii-v1, and for a provider
	// that is not synced (its dialect is then not known).
	VisibleAfterMS int64 `json:"visible_after_ms"`
}

// SyncReport says how fresh an answer is.
type SyncReport struct {
	// Complete is true when every covered provider is ok and the covered
	// set is confirmed: an answer read after this sync holds everything
	// acknowledged before it began.
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

// Answer bodies.
type (
	// ResponsesBody is the answer of GET ResponsesPath.
	ResponsesBody struct {
		Data       []Response  `json:"data"`
		NextCursor string      `json:"next_cursor"`
		Sync       *SyncReport `json:"sync"` // never nil in a valid answer
	}
	// StatsBody is the answer of GET StatsPath.
	StatsBody struct {
		Groups []Group `json:"groups"`
		Total  int64   `json:"total"`
		// Truncated: there were more groups than the answer holds
		// (MaxGroups, or the query's Top).
		Truncated bool        `json:"truncated"`
		Sync      *SyncReport `json:"sync"`
	}
	// SyncBody is the answer of POST SyncPath.
	SyncBody struct {
		Sync *SyncReport `json:"sync"`
	}
	// ProvidersBody is the answer of GET ProvidersPath: what the
	// aggregator knows of every covered provider, its settings in force,
	// and the provider and retirement keys in etcd it refuses. No sync is
	// run for it.
	ProvidersBody struct {
		Providers []ProviderInfo `json:"providers"`
		Settings  []Setting      `json:"settings"`
		Rejected  []RejectedKey  `json:"rejected"`
	}
)

// ProviderInfo is one covered provider as an operator sees it.
type ProviderInfo struct {
	Name    string `json:"name"`
	Dialect string `json:"dialect,omitempty"`
	// URL is the descriptor's, credentials masked; "" for a provider not
	// synced now.
	URL string `json:"url,omitempty"`
	// Status and Error are how the last round on the answering replica
	// ended, or why the provider is not synced; Status is "" before the
	// first round.
	Status      SyncStatus `json:"status,omitempty"`
	Error       string     `json:"error,omitempty"`
	LastRound   time.Time  `json:"last_round,omitzero"`
	SyncedAt    time.Time  `json:"synced_at,omitzero"`
	LagMS       int64      `json:"lag_ms"`
	Breaker     string     `json:"breaker,omitempty"` // closed, half-open or open
	Quarantined int        `json:"quarantined"`
	// VisibleAfterMS is the dialect's documented visibility delay, as in
	// ProviderSync.
	VisibleAfterMS int64 `json:"visible_after_ms"`
}

// RejectedKey is a key under /xii/providers/ or /xii/retired/ that the
// aggregator refuses, for as long as it holds that value: a retirement it
// does not act on (the provider stays covered), a descriptor it cannot sync
// (the provider is misconfigured) or a key that names no provider.
type RejectedKey struct {
	Key string `json:"key"`
	// Value is the value written, shortened; absent for descriptors, which
	// may hold credentials.
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// Setting is one aggregator setting in force, and a value written to etcd
// for it and rejected, if any; a key that is no setting has no value.
type Setting struct {
	Key      string `json:"key"`
	Value    string `json:"value,omitempty"`
	FromEtcd bool   `json:"from_etcd"`
	Rejected string `json:"rejected,omitempty"`
	Reason   string `json:"reason,omitempty"`
}
