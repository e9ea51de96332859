package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"xii/survey-svc/survey"
	"xii/testkit/wait"
)

// held makes every insert slot busy, so that Creates wait; release then
// runs the statements of one slot, and the Creates waiting by then go in
// one. That slot is free again once they are answered.
func held(s *Store) (release func()) {
	s.mu.Lock()
	s.inserts = maxInserts
	s.mu.Unlock()
	return func() { go s.insertPending() }
}

// createWaiting starts a Create for each of rs and returns once all wait.
func createWaiting(t *testing.T, s *Store, ctx context.Context, rs []survey.NewResponse) (results []createResult, done func()) {
	t.Helper()
	results = make([]createResult, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() {
			resp, err := s.Create(ctx, r)
			results[i] = createResult{resp, err}
		})
		// One at a time, so the waiting order is rs's.
		wait.For(t, fmt.Sprintf("create %d waiting", i), func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.pending) == i+1
		})
	}
	return results, wg.Wait
}

func TestCreatesWaitingGoInOneStatement(t *testing.T) {
	s := openStore(t)
	release := held(s)
	rs := make([]survey.NewResponse, 10)
	for i := range rs {
		rs[i] = response(i)
	}
	rs[3].Answers = []byte(`{"score":3}`)
	results, done := createWaiting(t, s, t.Context(), rs)
	release()
	done()

	for i, res := range results {
		if res.err != nil {
			t.Fatalf("create %d: %v", i, res.err)
		}
		if i > 0 && res.resp.ID <= results[i-1].resp.ID {
			t.Errorf("create %d: id %d not after %d", i, res.resp.ID, results[i-1].resp.ID)
		}
	}
	// Each id is its own response's, and the ten share one transaction.
	var xids int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(DISTINCT xid) FROM responses`).Scan(&xids); err != nil {
		t.Fatal(err)
	}
	if xids != 1 {
		t.Errorf("the responses were stored by %d transactions, want 1", xids)
	}
	for i, res := range results {
		var text string
		var answers *string
		err := s.db.QueryRowContext(t.Context(), `SELECT text, answers::text FROM responses WHERE id = $1`, res.resp.ID).Scan(&text, &answers)
		if err != nil {
			t.Fatalf("create %d: id %d: %v", i, res.resp.ID, err)
		}
		if text != rs[i].Text || (answers != nil) != (i == 3) {
			t.Errorf("create %d: id %d holds %q (answers %v), want %q", i, res.resp.ID, text, answers, rs[i].Text)
		}
		if res.resp.Text != rs[i].Text || res.resp.CreatedAt.IsZero() {
			t.Errorf("create %d: returned %+v", i, res.resp)
		}
	}
}

func TestCreateRefusedInABatchFailsAlone(t *testing.T) {
	s := openStore(t)
	release := held(s)
	rs := []survey.NewResponse{response(0), response(1), response(2)}
	rs[1].Text = strings.Repeat("x", survey.MaxTextLen+1) // past the CHECK; the store does not validate
	results, done := createWaiting(t, s, t.Context(), rs)
	release()
	done()

	if err := results[1].err; !errors.Is(err, survey.ErrInvalid) {
		t.Errorf("the refused response: %v, want an error wrapping ErrInvalid", err)
	}
	for _, i := range []int{0, 2} {
		if results[i].err != nil {
			t.Errorf("create %d: %v", i, results[i].err)
		}
	}
	var n int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM responses`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d responses stored, want 2", n)
	}
}

func TestCreateWithdrawnBeforeItsStatementIsNotStored(t *testing.T) {
	s := openStore(t)
	release := held(s)
	ctx, cancel := context.WithCancel(t.Context())
	results, done := createWaiting(t, s, ctx, []survey.NewResponse{response(0)})
	cancel()
	done()
	if !errors.Is(results[0].err, context.Canceled) {
		t.Fatalf("create: %v, want context.Canceled", results[0].err)
	}
	release()
	wait.For(t, "the insert slot freed", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.inserts == maxInserts-1
	})
	if _, err := s.Create(t.Context(), response(1)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM responses`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d responses stored, want 1 (the withdrawn one is not)", n)
	}
}
