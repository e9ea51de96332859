// Package aggregate is aggregator-svc's domain: the aggregated responses of
// every provider, read with filters after a sync that makes them fresh.
package aggregate

import (
	"context"
	"errors"
	"time"

	"xii/libs/xiiapi"
)

// Query limits: those of the wire contract, and one of the aggregate's own.
const (
	DefaultLimit = xiiapi.DefaultLimit
	MaxLimit     = xiiapi.MaxLimit
	// MaxGroups bounds the groups one stats answer returns.
	MaxGroups = xiiapi.MaxGroups
)

// Domain errors.
var (
	// ErrInvalid wraps every validation failure; the message names the field.
	ErrInvalid = xiiapi.ErrInvalid
	// ErrConflict: the provider's cursor moved since it was read (another
	// replica applied a page first). Nothing was written.
	ErrConflict = errors.New("provider cursor moved")
	// ErrRetired: the provider was retired; its pages are no longer
	// stored. Nothing was written.
	ErrRetired = errors.New("provider retired")

	// ErrUnavailable: the aggregate cannot be reached now (its database
	// restarts, fails over or refuses connections); nothing is wrong with
	// the request.
	ErrUnavailable = errors.New("aggregate unavailable")
)

// Response is one aggregated survey response, as the wire contract has it.
type Response = xiiapi.Response

// Filter restricts a query to responses whose fields equal the non-empty
// values and whose CreatedAt is in [Since, Until) where those are set.
type Filter = xiiapi.Filter

// Key is a response's place in the read order: newest first, then by
// provider and provider id.
type Key struct {
	CreatedAt  time.Time
	Provider   string
	ProviderID string
}

// Query asks for one page of responses.
type Query struct {
	Filter Filter
	Limit  int  // 1..MaxLimit
	After  *Key // nil: the first page
}

// ResultPage is one page of responses; Next is nil on the last page.
type ResultPage struct {
	Responses []Response
	Next      *Key
	// shared is set on a page a PageCache keeps, which many answers read.
	shared *sharedPage
}

// Validate checks the limit and the filter. Errors wrap ErrInvalid.
func (q Query) Validate() error {
	return xiiapi.Query{Filter: q.Filter, Limit: q.Limit}.Validate()
}

// GroupDimensions are what a stats query may group by.
var GroupDimensions = xiiapi.GroupDimensions

// StatsQuery asks for counts per group of the filtered responses; its
// Validate checks the filter and the grouping.
type StatsQuery = xiiapi.StatsQuery

// Group is the count of one combination of the grouped dimensions.
type Group = xiiapi.Group

// Stats are the counts of a StatsQuery: Groups largest first, at most
// MaxGroups of them, Truncated when there were more; Total counts every
// matching response.
type Stats struct {
	Groups    []Group `json:"groups"`
	Total     int64   `json:"total"`
	Truncated bool    `json:"truncated"`
}

// KnownProvider is the aggregate's durable record of one provider the
// freshness guarantee covers, or covered until it was retired.
type KnownProvider struct {
	Name string
	// Descriptor is the provider's etcd value when it was last seen there,
	// as written; "" if it was only ever known from a synced cursor.
	Descriptor string
	Retired    bool
}

// Reader reads the aggregate.
type Reader interface {
	// Query returns one page in Key order.
	Query(ctx context.Context, q Query) (ResultPage, error)
	// Stats counts the responses matching q.Filter per group.
	Stats(ctx context.Context, q StatsQuery) (Stats, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}
