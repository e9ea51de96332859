package syncer

import (
	"context"
	"sync"
)

// gate is a counting semaphore whose limit can change while it is in use
// (max_concurrency is live configuration). Lowering the limit never
// interrupts holders; it only delays new entries.
type gate struct {
	mu      sync.Mutex
	limit   int
	inUse   int
	changed chan struct{} // closed and replaced whenever a slot may have freed
}

func newGate(limit int) *gate {
	return &gate{limit: limit, changed: make(chan struct{})}
}

// enter waits for a slot or for ctx to be done.
func (g *gate) enter(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.inUse < g.limit {
			g.inUse++
			g.mu.Unlock()
			return nil
		}
		wait := g.changed
		g.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// leave frees a slot taken by enter.
func (g *gate) leave() {
	g.mu.Lock()
	g.inUse--
	g.broadcastLocked()
	g.mu.Unlock()
}

// setLimit changes the number of slots.
func (g *gate) setLimit(n int) {
	g.mu.Lock()
	if n != g.limit {
		g.limit = n
		g.broadcastLocked()
	}
	g.mu.Unlock()
}

func (g *gate) broadcastLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}
