package provider

import (
	"fmt"

	"xii/aggregator-svc/aggregate"
)

// Page sizes: what an adapter asks for when Request.Limit is not set, and
// the largest page both dialects serve.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
	// MaxCursorLen bounds the cursor stored with each page.
	MaxCursorLen = aggregate.MaxCursorLen
)

// pageSize is the page size to ask for when the aggregator asked for limit.
func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// checkPage validates a decoded page before anything of it is returned:
// that it can be stored once its invalid records are quarantined
// (Page.Quarantine, Page.Validate), and progress. A page that claims
// more but would not move the cursor would have the aggregator ask for the
// same page forever. After a rescan the provider restarts from an earlier
// position, so reaching the requested cursor again is progress there.
// Errors wrap ErrBadPage.
func checkPage(p Page, cursor string, rescan bool) (Page, error) {
	p = p.Quarantine()
	if err := p.Validate(); err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrBadPage, err)
	}
	if !p.HasMore {
		return p, nil
	}
	switch {
	case len(p.Records) == 0 && len(p.Quarantined) == 0:
		return Page{}, fmt.Errorf("%w: more records announced after an empty page", ErrBadPage)
	case p.Next == "":
		return Page{}, fmt.Errorf("%w: more records announced without a cursor", ErrBadPage)
	case p.Next == cursor && !rescan:
		return Page{}, fmt.Errorf("%w: more records announced but the cursor did not move", ErrBadPage)
	}
	return p, nil
}
