package syncer

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"xii/aggregator-svc/aggregate"
)

// How far a round reads ahead of what it stores. While a backlog's page is
// stored, the pages after it are on their way; the ones already there when
// the store is free again go in together, in one transaction with the last
// one's cursor. One transaction for a few pages costs less than one each:
// a commit, the cursor's lock and move, and the statements' fixed costs.
const (
	// aheadPages bounds the pages fetched and not yet taken to store.
	aheadPages = 4
	// mergePages bounds the pages stored in one transaction.
	mergePages = 4
	// aheadBytes bounds, roughly, what fetched pages not yet stored hold:
	// past it, a round fetches only the page after the one it stores.
	aheadBytes = 8 << 20
)

// fetched is one page request's outcome.
type fetched struct {
	page  aggregate.Page
	err   error
	bytes int
}

// pager fetches one round's pages in order, from a cursor on, each page
// from the one before's next cursor, ahead of the round storing them.
// Pages are stored in the order they come, so each still commits with its
// own cursor or with a later page's, in the same transaction, and never
// one before another.
type pager struct {
	p     *providerSync
	merge int
	held  *fetched // taken from pages, not merged, next to return

	// Sequential (pages nil): no fetching ahead; next asks for the page
	// from cursor.
	cursor string
	rescan bool

	// Fetching ahead: fetchAhead sends its pages on pages.
	cancel context.CancelFunc
	done   chan struct{}
	pages  chan fetched
	freed  chan struct{} // a batch stored: room to fetch more

	mu    sync.Mutex
	bytes int // of the pages fetched and not yet stored
	count int // those pages
}

// pages starts reading the provider's pages from cursor, a rescan. Stop
// the pager before the round ends, so that no fetch outlives it.
func (p *providerSync) pages(ctx context.Context, cursor string) *pager {
	pg := &pager{p: p, merge: max(1, p.s.merge), cursor: cursor, rescan: true}
	if p.s.ahead < 1 {
		return pg
	}
	ctx, pg.cancel = context.WithCancel(ctx)
	pg.done = make(chan struct{})
	pg.pages = make(chan fetched, p.s.ahead-1)
	pg.freed = make(chan struct{}, 1)
	go pg.fetchAhead(ctx, cursor)
	return pg
}

// fetchAhead fetches page after page until one has nothing more, one
// fails, or the round ends. It starts another fetch while the pages not
// yet stored are one, or hold less than aheadBytes (the channel bounds
// their count).
func (pg *pager) fetchAhead(ctx context.Context, cursor string) {
	defer close(pg.done)
	rescan := true
	for {
		for !pg.room() {
			if f := pg.p.s.aheadFull; f != nil {
				f()
			}
			select {
			case <-pg.freed:
			case <-ctx.Done():
				return
			}
		}
		page, err := pg.p.fetchPage(ctx, pg.p.request(cursor, rescan))
		f := fetched{page: page, err: err, bytes: pageBytes(page)}
		pg.mu.Lock()
		pg.bytes += f.bytes
		pg.count++
		pg.mu.Unlock()
		select {
		case pg.pages <- f:
		case <-ctx.Done():
			return
		}
		if err != nil || !page.HasMore {
			return
		}
		cursor, rescan = page.Next, false
	}
}

func (pg *pager) room() bool {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return pg.count <= 1 || pg.bytes < aheadBytes
}

// batch is what a round stores in one transaction: one page, or several
// merged into one.
type batch struct {
	page  aggregate.Page
	pages int // fetched pages in it
	bytes int
}

// next returns the next batch to store. Pages after the next one that are
// already there are merged into it, up to pg.merge: their records appended
// (the store keeps a record's last occurrence), the last one's cursor and
// HasMore. A page with records set aside is never merged, nor anything
// after it: a record set aside in one page and sent again valid in a later
// one must leave quarantine, which the store does only for the records of
// a later transaction.
func (pg *pager) next(ctx context.Context) (batch, error) {
	f, err := pg.take(ctx)
	if err = cmp.Or(err, f.err); err != nil {
		return batch{}, err
	}
	b := batch{page: f.page, pages: 1, bytes: f.bytes}
	for b.pages < pg.merge && b.page.HasMore && len(b.page.Quarantined) == 0 {
		var g fetched
		select {
		case g = <-pg.pages:
		default:
			return b, nil
		}
		if g.err != nil || len(g.page.Quarantined) > 0 {
			pg.held = &g
			return b, nil
		}
		b.page = aggregate.Page{Records: slices.Concat(b.page.Records, g.page.Records), Next: g.page.Next, HasMore: g.page.HasMore}
		b.pages++
		b.bytes += g.bytes
	}
	return b, nil
}

// take returns the next fetched page, waiting for it.
func (pg *pager) take(ctx context.Context) (fetched, error) {
	if pg.held != nil {
		f := *pg.held
		pg.held = nil
		return f, nil
	}
	if pg.pages == nil {
		page, err := pg.p.fetchPage(ctx, pg.p.request(pg.cursor, pg.rescan))
		pg.cursor, pg.rescan = page.Next, false
		return fetched{page: page, err: err}, nil
	}
	select {
	case f := <-pg.pages:
		return f, nil
	case <-ctx.Done():
		return fetched{}, ctx.Err()
	}
}

// stored tells the pager that b is stored, which makes room to fetch more
// ahead.
func (pg *pager) stored(b batch) {
	if pg.pages == nil {
		return
	}
	pg.mu.Lock()
	pg.count -= b.pages
	pg.bytes -= b.bytes
	pg.mu.Unlock()
	select {
	case pg.freed <- struct{}{}:
	default:
	}
}

// stop cancels what is still being fetched and waits for it to end.
func (pg *pager) stop() {
	if pg.pages == nil {
		return
	}
	pg.cancel()
	<-pg.done
}

// pageBytes estimates the memory a decoded page holds.
func pageBytes(p aggregate.Page) int {
	const perRecord = 128 // the record's fixed fields and slice headers
	n := len(p.Next)
	for _, r := range p.Records {
		n += perRecord + len(r.ProviderID) + len(r.Survey) + len(r.Text) + len(r.Device) + len(r.Location) + len(r.Answers)
	}
	for _, q := range p.Quarantined {
		n += perRecord + len(q.ProviderID) + len(q.Reason) + len(q.Record)
	}
	return n
}
