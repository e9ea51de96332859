package dashboard

import "xii/libs/xiiapi"

// The aggregator's answers, as the wire contract has them.
type (
	Response     = xiiapi.Response
	SyncStatus   = xiiapi.SyncStatus
	ProviderSync = xiiapi.ProviderSync
	// SyncReport says how fresh an answer is. Complete is true only when
	// every provider is ok: the answer then holds every response
	// acknowledged by any provider before the request arrived.
	SyncReport = xiiapi.SyncReport
	Group      = xiiapi.Group
	// Providers is what the aggregator knows of its providers, and its
	// settings in force.
	Providers = xiiapi.ProvidersBody
)

// Page is one page of responses with the sync it was read after.
// NextCursor is empty on the last page.
type Page struct {
	Responses  []Response
	NextCursor string
	Sync       SyncReport
}

// EncodedPage is a page of responses as the aggregator encoded it, passed
// through without decoding: Body is a ResponsesBody in JSON, exactly as the
// aggregator wrote it. The hop is internal and behind a token, so the bytes
// are not checked again; what the dashboard needs of the sync, the
// aggregator's headers say: Complete, and the providers Unsynced.
type EncodedPage struct {
	Body     []byte
	Complete bool
	Unsynced []string
}

// Stats are the counts of a StatsQuery: Groups largest first, Total every
// matching response, read after Sync.
type Stats struct {
	Groups    []Group
	Total     int64
	Truncated bool // more groups than Groups holds
	Sync      SyncReport
}
