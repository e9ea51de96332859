package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
