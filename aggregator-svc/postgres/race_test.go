package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
)

// Replicas racing to apply pages from the same cursor: exactly one wins,
// the others write nothing, and each record is stored once.
func TestApplyPageRace(t *testing.T) {
	t.Parallel()
	const racers = 8
	tests := []struct {
		name   string
		synced bool // the provider has a cursor before the race
		held   bool // the first to lock holds it until the others all wait
		rounds int
	}{
		{"new provider, all waiting on the winner", false, true, 1},
		{"synced provider, all waiting on the winner", true, true, 1},
		{"free run", false, false, 10},
	}
	for _, tt := range tests {
		for _, path := range paths {
			t.Run(tt.name+"/"+path.name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				var (
					holding = make(chan struct{})
					release = make(chan struct{})
					armed   atomic.Bool
					first   atomic.Bool
					opts    []Option
				)
				if tt.held {
					opts = append(opts, WithHooks(Hooks{BeforeCommit: func(ctx context.Context, _ string) error {
						if armed.Load() && first.CompareAndSwap(false, true) {
							close(holding)
							select {
							case <-release:
							case <-ctx.Done():
								return ctx.Err()
							}
						}
						return nil
					}}))
				}
				s := openStore(t, opts...)

				want := map[string]string{} // provider id -> text
				from := ""
				if tt.synced {
					setup := racePage(-1, 0, path.size)
					apply(t, s, "blue", "", setup)
					for _, r := range setup.Records {
						want[r.ProviderID] = r.Text
					}
					from = setup.Next
				}
				armed.Store(true)
				for round := range tt.rounds {
					pages := make([]aggregate.Page, racers)
					for i := range pages {
						pages[i] = racePage(round, i, path.size)
					}
					results := make(chan raceResult, racers)
					start := make(chan struct{})
					var wg sync.WaitGroup
					for i := range racers {
						wg.Go(func() {
							<-start
							_, err := s.ApplyPage(ctx, "blue", from, pages[i])
							results <- raceResult{i, err}
						})
					}
					close(start)
					if tt.held {
						select {
						case <-holding:
						case <-ctx.Done():
							t.Fatal("no racer reached commit")
						}
						waitForLockWaiters(t, ctx, s, racers-1)
						close(release)
					}
					wg.Wait()
					close(results)

					winner := -1
					for r := range results {
						switch {
						case r.err == nil && winner >= 0:
							t.Fatalf("round %d: racers %d and %d both applied a page from %q", round, winner, r.i, from)
						case r.err == nil:
							winner = r.i
						case !errors.Is(r.err, aggregate.ErrConflict):
							t.Fatalf("round %d: racer %d: %v, want ErrConflict", round, r.i, r.err)
						}
					}
					if winner < 0 {
						t.Fatalf("round %d: no racer applied its page", round)
					}
					for _, r := range pages[winner].Records {
						want[r.ProviderID] = r.Text
					}
					from = pages[winner].Next
					if c := cursorOf(t, s, "blue"); c != from {
						t.Fatalf("round %d: cursor = %q, want the winner's %q", round, c, from)
					}
				}

				got := stored(t, s, "blue")
				if len(got) != len(want) {
					t.Errorf("stored %d responses, want %d", len(got), len(want))
				}
				for id, text := range want {
					if got[id].Text != text {
						t.Errorf("%s: text %q, want %q", id, got[id].Text, text)
					}
				}
			})
		}
	}
}

type raceResult struct {
	i   int
	err error
}

// racePage is racer i's page in round: half of it ids every racer of every
// round writes, half ids of its own.
func racePage(round, i, size int) aggregate.Page {
	shared := records(0, size/2)
	base := 200000 + (round*100+i)*size
	own := records(base, base+size-size/2)
	page := aggregate.Page{Records: append(shared, own...), Next: fmt.Sprintf("round %d racer %d", round, i)}
	for j := range page.Records {
		page.Records[j].Text = page.Next
	}
	return page
}

// waitForLockWaiters waits until n sessions of s's database wait for a lock.
func waitForLockWaiters(tb testing.TB, ctx context.Context, s *Store, n int) {
	tb.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting int
		err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			tb.Fatalf("count lock waiters: %v", err)
		}
		if waiting == n {
			return
		}
		if waiting > n {
			tb.Fatalf("%d sessions wait for a lock, want %d", waiting, n)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			tb.Fatalf("%d sessions wait for a lock, want %d: %v", waiting, n, ctx.Err())
		}
	}
}
