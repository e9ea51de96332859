package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// ResponsesVersion returns the version of every provider's rows (see the
// migration response_versions), as one value: equal values, equal rows.
// It changes with every committed statement that changes a response.
func (s *Store) ResponsesVersion(ctx context.Context) (_ string, err error) {
	defer func() { err = withCause(ctx, err) }()
	rows, err := s.db.QueryContext(ctx, `SELECT provider, version FROM response_versions ORDER BY provider`)
	if err != nil {
		return "", fmt.Errorf("responses version: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			provider string
			version  int64
		)
		if err := rows.Scan(&provider, &version); err != nil {
			return "", fmt.Errorf("responses version: scan: %w", err)
		}
		// A NUL never occurs in text, so the value names each pair
		// unambiguously.
		b.WriteString(provider)
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(version, 10))
		b.WriteByte(0)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("responses version: %w", err)
	}
	return b.String(), nil
}
