package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"xii/aggregator-svc/aggregate"
)

// Cursor returns the provider's stored cursor, "" before its first page was
// applied.
func (s *Store) Cursor(ctx context.Context, provider string) (string, error) {
	var cursor string
	err := s.db.QueryRowContext(ctx, "SELECT cursor FROM provider_cursors WHERE provider = $1", provider).Scan(&cursor)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read cursor: %w", err)
	}
	return cursor, nil
}

// Position returns the provider's stored cursor, "" before its first page,
// and how many of its records are in quarantine, in one read.
func (s *Store) Position(ctx context.Context, provider string) (aggregate.Position, error) {
	var p aggregate.Position
	err := s.db.QueryRowContext(ctx, "SELECT cursor, quarantined FROM provider_cursors WHERE provider = $1", provider).Scan(&p.Cursor, &p.Quarantined)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return aggregate.Position{}, nil
	case err != nil:
		return aggregate.Position{}, fmt.Errorf("read position: %w", err)
	}
	return p, nil
}
