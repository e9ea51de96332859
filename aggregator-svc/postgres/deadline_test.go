package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
)

// TestReadCutByTheDeadlineSaysSo: a read that PostgreSQL cancels because
// the request's deadline passed reports context.DeadlineExceeded, so that
// the aggregator answers 504 (timeout), not 500 (a failure). lib/pq alone
// reports only "canceling statement due to user request".
func TestReadCutByTheDeadlineSaysSo(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	// Hold the tables, so that the reads wait until their deadline.
	tx, err := s.db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE responses, response_counts IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(context.Context) error{
		"query": func(ctx context.Context) error { _, err := s.Query(ctx, aggregate.Query{Limit: 10}); return err },
		"stats": func(ctx context.Context) error { _, err := s.Stats(ctx, aggregate.StatsQuery{}); return err },
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		err := read(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s past its deadline: %v, want context.DeadlineExceeded", name, err)
		}
	}
}
