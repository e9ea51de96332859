package postgres

import (
	"database/sql"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"xii/survey-svc/survey"
)

// ledger records what the writers of TestExportUnderConcurrentWrites did.
type ledger struct {
	mu         sync.Mutex
	committed  map[int64]bool
	rolledBack map[int64]bool
	// open holds rows whose transaction has not been told to end yet: a row
	// in it both before and after an export was in an open transaction
	// throughout.
	open map[int64]survey.Position
}

// TestExportUnderConcurrentWrites has many writers commit out of order
// while an exporter pages continuously, and checks that the exporter ends
// up with exactly the committed rows.
//
// Writers force out-of-order commits without timing: each keeps up to two
// transactions open, committing or rolling back one of them at a random
// later step, after its own and others' newer rows have committed.
func TestExportUnderConcurrentWrites(t *testing.T) {
	const (
		writers = 16
		rows    = 40 // per writer
		maxHeld = 2  // open transactions per writer
		limit   = 7
	)
	s := openStore(t, WithMaxOpenConns(writers*maxHeld+4))
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	l := &ledger{committed: map[int64]bool{}, rolledBack: map[int64]bool{}, open: map[int64]survey.Position{}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			write(t, s, l, rand.New(rand.NewPCG(seed, uint64(w))), rows, maxHeld)
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	defer func() { <-done }() // writers use s and t until they finish
	close(start)

	var (
		cur        survey.Cursor
		seen       = map[int64]int{}
		pages      int
		finalSweep bool // the current sweep started after the last write
		naive      = &naiveExporter{db: s.db}
		naiveSeen  = map[int64]bool{}
	)
	for {
		l.mu.Lock()
		openBefore := maps.Clone(l.open)
		l.mu.Unlock()
		p, err := s.Export(t.Context(), survey.ExportQuery{After: cur, Limit: limit})
		if err != nil {
			t.Errorf("export after %#v: %v", cur, err)
			return
		}
		pages++
		l.mu.Lock()
		for id, pos := range openBefore {
			if _, still := l.open[id]; still && !p.Next.Stable.Less(pos) {
				t.Errorf("cursor %#v passed row %d/%d of an open transaction", p.Next, pos.XID, pos.ID)
			}
		}
		l.mu.Unlock()
		if p.Next.Stable.Less(cur.Stable) {
			t.Errorf("Stable moved backwards: %#v after %#v", p.Next, cur)
		}
		for _, r := range p.Responses {
			seen[r.ID]++
		}
		cur = p.Next

		got, err := naive.page(t.Context(), limit)
		if err != nil {
			t.Errorf("naive export: %v", err)
			return
		}
		for _, id := range got {
			naiveSeen[id] = true
		}

		if !p.HasMore {
			if finalSweep {
				break
			}
			select {
			case <-done:
				finalSweep = true
			default:
			}
		}
	}
	for { // the naive exporter catches up too
		got, err := naive.page(t.Context(), limit)
		if err != nil {
			t.Fatalf("naive export: %v", err)
		}
		for _, id := range got {
			naiveSeen[id] = true
		}
		if len(got) < limit {
			break
		}
	}

	redelivered, missed, naiveMissed := 0, 0, 0
	for id, n := range seen {
		redelivered += n - 1
		if !l.committed[id] {
			t.Errorf("exported id %d, which was never committed (rolled back: %v)", id, l.rolledBack[id])
		}
	}
	for id := range l.committed {
		if seen[id] == 0 {
			missed++
			t.Errorf("committed id %d never exported", id)
		}
		if !naiveSeen[id] {
			naiveMissed++
		}
	}
	t.Logf("%d committed, %d rolled back; cursor export: %d pages, %d distinct rows, %d redelivered, %d missed; naive export: %d missed",
		len(l.committed), len(l.rolledBack), pages, len(seen), redelivered, missed, naiveMissed)
}

// write inserts rows responses, some in transactions it keeps open across
// later steps and then commits or rolls back, and records the outcomes in l.
func write(t *testing.T, s *Store, l *ledger, rng *rand.Rand, rows, maxHeld int) {
	type held struct {
		tx  *sql.Tx
		pos survey.Position
	}
	var hold []held
	defer func() {
		for _, h := range hold {
			h.tx.Rollback()
		}
	}()
	end := func() bool {
		i := rng.IntN(len(hold))
		h := hold[i]
		hold = slices.Delete(hold, i, i+1)
		commit := rng.IntN(5) > 0
		l.mu.Lock()
		delete(l.open, h.pos.ID)
		l.mu.Unlock()
		var err error
		if commit {
			err = h.tx.Commit()
		} else {
			err = h.tx.Rollback()
		}
		if err != nil {
			t.Errorf("end transaction of row %d: %v", h.pos.ID, err)
			return false
		}
		l.mu.Lock()
		if commit {
			l.committed[h.pos.ID] = true
		} else {
			l.rolledBack[h.pos.ID] = true
		}
		l.mu.Unlock()
		return true
	}

	for inserted := 0; inserted < rows || len(hold) > 0; {
		choice := rng.IntN(3)
		switch {
		case inserted == rows || len(hold) == maxHeld || choice == 0 && len(hold) > 0:
			if !end() {
				return
			}
		case choice == 1:
			tx, err := s.db.BeginTx(t.Context(), nil)
			if err != nil {
				t.Errorf("begin: %v", err)
				return
			}
			pos, err := insertTx(t.Context(), tx, response(inserted))
			if err != nil {
				tx.Rollback()
				t.Errorf("insert: %v", err)
				return
			}
			l.mu.Lock()
			l.open[pos.ID] = pos
			l.mu.Unlock()
			hold = append(hold, held{tx, pos})
			inserted++
		default:
			r, err := s.Create(t.Context(), response(inserted))
			if err != nil {
				t.Errorf("create: %v", err)
				return
			}
			l.mu.Lock()
			l.committed[r.ID] = true
			l.mu.Unlock()
			inserted++
		}
		if rng.IntN(3) == 0 {
			runtime.Gosched()
		}
	}
}
