// Package provider holds the dialect adapters: each speaks one provider's
// export API and turns its pages into Records the aggregate stores.
//
// An adapter knows nothing of the database, the coalescing or the retries:
// it fetches one page after a cursor, within the context's deadline, and
// reports what went wrong as one of the errors below.
package provider

import (
	"context"
	"errors"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/libs/discovery"
)

// Dialects the aggregator speaks.
const (
	DialectXII      = discovery.DialectXII      // survey-svc's export API
	DialectTypeform = discovery.DialectTypeform // the Typeform Responses API
	DialectAlchemer = discovery.DialectAlchemer // Alchemer's (SurveyGizmo's) v5 SurveyResponse API
)

// VisibilityDelay is how long a response a provider has acknowledged may
// take to become visible in its API, as the provider documents it: the
// freshness guarantee can only promise what the API could show. xii-v1
// exports a response once its write has committed, before survey-svc
// answers the write; Typeform documents that a response may reach a
// webhook a few seconds before its Responses API; Alchemer that a
// submitted response may take up to 5 minutes to appear, and that GETs
// are cached for 60 s.
func VisibilityDelay(dialect string) time.Duration {
	switch dialect {
	case DialectTypeform:
		return TypeformVisibility
	case DialectAlchemer:
		return AlchemerVisibility
	}
	return 0
}

// Documented visibility delays (VisibilityDelay).
const (
	TypeformVisibility = 5 * time.Second
	AlchemerVisibility = alchemerProcessing + alchemerRepeatWindow
)

// Record and Page are the aggregate's: what a provider's export holds.
type (
	Record = aggregate.Record
	Page   = aggregate.Page
)

// Request asks for the page after Cursor.
type Request struct {
	Cursor string // "" starts from the beginning
	// Rescan marks the first fetch of a sync round (and the first after
	// adopting a cursor another replica stored): adapters whose cursors can
	// run ahead of late-committing rows restart from their last final
	// position.
	Rescan bool
	Limit  int // page size the aggregator asks for; adapters may cap it
}

// Source fetches pages from one provider.
type Source interface {
	// Fetch returns the page after req.Cursor. Errors: ErrUnauthorized,
	// ErrRateLimited, ErrBadPage, ErrUnavailable (all may wrap details), or
	// the context's error.
	Fetch(ctx context.Context, req Request) (Page, error)
}

// Errors adapters return. Retryable reports which are worth another try.
var (
	// ErrUnauthorized: the provider refused our credentials.
	ErrUnauthorized = errors.New("provider refused credentials")
	// ErrRateLimited: the provider asked us to slow down.
	ErrRateLimited = errors.New("provider rate limit")
	// ErrBadPage: the provider answered something we cannot use (malformed
	// JSON, a page too large, invalid records). Nothing of it is stored.
	ErrBadPage = errors.New("malformed page from provider")
	// ErrUnavailable: the provider could not be reached or failed (5xx).
	ErrUnavailable = errors.New("provider unavailable")
)

// ErrRejected: the provider refused the request itself (a 4xx other than
// the credential and rate-limit ones, e.g. a form that does not exist). It
// wraps ErrBadPage, so callers that only know the Source contract treat it
// as a page they cannot use; asking again the same way will not help.
var ErrRejected error = rejectedError{}

type rejectedError struct{}

func (rejectedError) Error() string        { return "provider rejected the request" }
func (rejectedError) Is(target error) bool { return target == ErrBadPage }

// Retryable reports whether a fetch that failed with err may succeed if
// tried again shortly.
func Retryable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRateLimited)
}
