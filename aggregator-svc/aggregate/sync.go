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

// Syncer brings the aggregate up to date with every provider.
type Syncer interface {
	// Sync returns once every provider is synced by a round that started
	// after the call, or ctx is done; it never fails as a whole.
	Sync(ctx context.Context) SyncReport
}
