package survey

import (
	"context"
	"sync"
	"time"
)

// memRepo is an in-memory Repository for transport and service tests. Every
// row is final at once, so the cursor degenerates to an id cursor; the real
// ordering is tested against PostgreSQL in package postgres.
type memRepo struct {
	mu      sync.Mutex
	rows    []Response
	pingErr error
}

func newMemRepo() *memRepo { return &memRepo{} }

func (m *memRepo) Create(_ context.Context, n NewResponse) (Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := Response{ID: int64(len(m.rows) + 1), Survey: n.Survey, Text: n.Text, Device: n.Device,
		Location: n.Location, Answers: n.Answers, CreatedAt: time.Now().UTC()}
	m.rows = append(m.rows, r)
	return r, nil
}

func (m *memRepo) Export(_ context.Context, q ExportQuery) (Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := Page{Next: q.After}
	for _, r := range m.rows {
		pos := Position{XID: 1, ID: r.ID}
		if !q.After.Scan.Less(pos) || !matches(q.Filter, r) {
			continue
		}
		if len(p.Responses) == q.Limit {
			p.HasMore = true
			return p, nil
		}
		p.Responses = append(p.Responses, r)
		p.Next = p.Next.Advance(pos, true)
	}
	p.Next = p.Next.Rewind()
	return p, nil
}

func (m *memRepo) Ping(context.Context) error { return m.pingErr }

func matches(f Filter, r Response) bool {
	return (f.Survey == "" || f.Survey == r.Survey) &&
		(f.Device == "" || f.Device == r.Device) &&
		(f.Location == "" || f.Location == r.Location)
}
