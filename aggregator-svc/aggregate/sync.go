package aggregate

import (
	"context"

	"xii/libs/xiiapi"
)

// The sync report of an answer, as the wire contract has it.
type (
	SyncStatus   = xiiapi.SyncStatus
	ProviderSync = xiiapi.ProviderSync
	SyncReport   = xiiapi.SyncReport
)

// Sync statuses.
const (
	StatusOK            = xiiapi.StatusOK
	StatusTimeout       = xiiapi.StatusTimeout
	StatusError         = xiiapi.StatusError
	StatusUnavailable   = xiiapi.StatusUnavailable
	StatusCircuitOpen   = xiiapi.StatusCircuitOpen
	StatusMisconfigured = xiiapi.StatusMisconfigured
)

// Syncer brings the aggregate up to date with every provider.
type Syncer interface {
	// Sync returns once every provider is synced by a round that started
	// after the call, or ctx is done; it never fails as a whole.
	Sync(ctx context.Context) SyncReport
}
