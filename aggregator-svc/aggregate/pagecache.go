package aggregate

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"

	"xii/libs/xiiapi"
)

// VersionedReader is a Reader that can tell whether what it reads changed.
type VersionedReader interface {
	Reader
	// ResponsesVersion returns a value that is different whenever any
	// response is: once it has changed, it never comes back.
	ResponsesVersion(ctx context.Context) (string, error)
}

// Page cache bounds: the most queries it keeps pages for, and the most
// bytes those pages hold, their encodings included.
const (
	DefaultPageCacheEntries = 1024
	DefaultPageCacheBytes   = 16 << 20
)

// PageCache is a Reader that answers a query again from the page it read
// for it last, while no response has changed since: the freshness of an
// answer comes from the sync before the read, and the read itself is
// pure, so the same rows give the same page. Under load many answers
// follow one change; they share one read and one encoding.
//
// Why a kept page is never stale: it is stored with the version read
// before the page was, so it holds at least every change committed at
// that version. A later query reads the version again, after its own sync;
// if it is the same, nothing has been committed since, so the kept page
// holds everything that sync stored. Versions never come back, so a page
// kept under one is never taken for a later state. Replicas share the
// versions through the database, so a page another replica changed is
// seen as changed.
//
// Stats are not kept; they read the rollup, which is small. A page handed
// out is shared: callers must not change it.
type PageCache struct {
	VersionedReader
	version              sharedVersion
	maxEntries, maxBytes int
	hits, misses         atomic.Uint64

	mu      sync.Mutex
	entries map[string]*list.Element // of *cached
	lru     list.List                // front: the most recently used
	bytes   int
}

type cached struct {
	query, version string
	page           ResultPage
	size           int
}

// NewPageCache returns a PageCache over r holding pages for at most
// maxEntries queries and maxBytes bytes (<= 0: the defaults).
func NewPageCache(r VersionedReader, maxEntries, maxBytes int) *PageCache {
	if maxEntries <= 0 {
		maxEntries = DefaultPageCacheEntries
	}
	if maxBytes <= 0 {
		maxBytes = DefaultPageCacheBytes
	}
	return &PageCache{VersionedReader: r, version: sharedVersion{read: r.ResponsesVersion},
		maxEntries: maxEntries, maxBytes: maxBytes, entries: map[string]*list.Element{}}
}

// Query returns the kept page of q if no response changed since it was
// read, else reads it and keeps it. When the version cannot be read, it
// reads the page as Reader does, keeping nothing. The version is read
// once for the queries that arrive together (the waiters of the same
// rounds wake together), by a read that started after each of them came.
func (c *PageCache) Query(ctx context.Context, q Query) (ResultPage, error) {
	version, err := c.version.get(ctx)
	if err != nil {
		return c.VersionedReader.Query(ctx, q)
	}
	key := cacheKey(q)
	if p, ok := c.get(key, version); ok {
		c.hits.Add(1)
		return p, nil
	}
	c.misses.Add(1)
	p, err := c.VersionedReader.Query(ctx, q)
	if err != nil {
		return ResultPage{}, err
	}
	p.shared = new(sharedPage)
	c.put(&cached{query: key, version: version, page: p, size: pageSize(p)})
	return p, nil
}

// Counts returns how many queries were answered from a kept page, and how
// many were read.
func (c *PageCache) Counts() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

func (c *PageCache) get(key, version string) (ResultPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return ResultPage{}, false
	}
	e := el.Value.(*cached)
	if e.version != version {
		return ResultPage{}, false
	}
	c.lru.MoveToFront(el)
	return e.page, true
}

func (c *PageCache) put(e *cached) {
	if e.size > c.maxBytes/4 {
		return // one huge page would push out many small ones
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.query]; ok {
		c.remove(el)
	}
	c.entries[e.query] = c.lru.PushFront(e)
	c.bytes += e.size
	for len(c.entries) > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *PageCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cached)
	delete(c.entries, e.query)
	c.bytes -= e.size
}

// cacheKey is q in one string: its filter and limit in their URL form and
// the cursor.
func cacheKey(q Query) string {
	k := xiiapi.Query{Filter: q.Filter, Limit: q.Limit}.Values().Encode()
	if q.After != nil {
		k += "&after=" + q.After.String()
	}
	return k
}

// pageSize estimates the bytes a kept page holds: its rows, and about as
// much again for its encoding.
func pageSize(p ResultPage) int {
	n := 256
	for _, r := range p.Responses {
		n += 2 * (160 + len(r.Provider) + len(r.ProviderID) + len(r.Survey) + len(r.Text) + len(r.Device) + len(r.Location) + len(r.Answers))
	}
	return n
}

// sharedPage is what answers sharing one kept page share besides its
// rows: the page's encoding, made by the first that needs it.
type sharedPage struct {
	once    sync.Once
	encoded []byte
	err     error
}

// encodeOnce returns p's encoding by encode, made once for a kept page.
func (p ResultPage) encodeOnce(encode func(ResultPage) ([]byte, error)) ([]byte, error) {
	if p.shared == nil {
		return encode(p)
	}
	p.shared.once.Do(func() { p.shared.encoded, p.shared.err = encode(p) })
	return p.shared.encoded, p.shared.err
}
