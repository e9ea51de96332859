package postgres

import (
	"context"
	"fmt"
	"unicode/utf8"

	"xii/aggregator-svc/aggregate"
)

// maxDescriptorBytes bounds the descriptor remembered for a provider; a
// longer value is not a usable descriptor anyway, and is remembered empty.
const maxDescriptorBytes = 4 << 10

// KnownProviders returns every provider the store knows: those synced at
// least once and those remembered from etcd, retired ones included.
func (s *Store) KnownProviders(ctx context.Context) ([]aggregate.KnownProvider, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT provider, descriptor, retired FROM provider_cursors ORDER BY provider`)
	if err != nil {
		return nil, fmt.Errorf("known providers: %w", err)
	}
	defer rows.Close()
	var known []aggregate.KnownProvider
	for rows.Next() {
		var k aggregate.KnownProvider
		if err := rows.Scan(&k.Name, &k.Descriptor, &k.Retired); err != nil {
			return nil, fmt.Errorf("known providers: %w", err)
		}
		known = append(known, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("known providers: %w", err)
	}
	return known, nil
}

// RememberProvider records that provider is configured with descriptor
// (its etcd value as written), and takes back a retirement: a provider
// configured again is covered again, resuming from its stored cursor.
func (s *Store) RememberProvider(ctx context.Context, provider, descriptor string) error {
	if provider == "" {
		return fmt.Errorf("remember provider: %w: empty provider", aggregate.ErrInvalid)
	}
	if len(descriptor) > maxDescriptorBytes || !utf8.ValidString(descriptor) {
		descriptor = ""
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO provider_cursors (provider, descriptor) VALUES ($1, $2)
		ON CONFLICT (provider) DO UPDATE SET descriptor = EXCLUDED.descriptor, retired = false
		WHERE provider_cursors.descriptor <> EXCLUDED.descriptor OR provider_cursors.retired`,
		provider, descriptor)
	if err != nil {
		return fmt.Errorf("remember provider %q: %w", provider, err)
	}
	return nil
}

// RetireProvider takes provider out of the covered set. With dropRows its
// responses are deleted and its cursor reset, in one transaction, so that
// a provider configured again later is synced from the start. A sync round
// that is still running for it cannot write afterwards: ApplyPage checks
// the retirement under the same row lock. Retiring twice is harmless.
func (s *Store) RetireProvider(ctx context.Context, provider string, dropRows bool) (err error) {
	if provider == "" {
		return fmt.Errorf("retire provider: %w: empty provider", aggregate.ErrInvalid)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("retire provider %q: begin: %w", provider, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback() // the failure is the error worth reporting
		}
	}()
	if _, err := tx.ExecContext(ctx, ensureCursor, provider); err != nil {
		return fmt.Errorf("retire provider %q: %w", provider, err)
	}
	var cursor string
	var retired bool
	if err := tx.QueryRowContext(ctx, lockCursor, provider).Scan(&cursor, &retired, new(int)); err != nil {
		return fmt.Errorf("retire provider %q: lock: %w", provider, err)
	}
	if dropRows {
		if _, err := tx.ExecContext(ctx, `DELETE FROM responses WHERE provider = $1`, provider); err != nil {
			return fmt.Errorf("retire provider %q: delete rows: %w", provider, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM quarantined_records WHERE provider = $1`, provider); err != nil {
			return fmt.Errorf("retire provider %q: delete quarantined records: %w", provider, err)
		}
		cursor = ""
	}
	if _, err := tx.ExecContext(ctx, `UPDATE provider_cursors SET retired = true, cursor = $2, updated_at = now(),
		quarantined = (SELECT count(*) FROM quarantined_records WHERE provider = $1) WHERE provider = $1`,
		provider, cursor); err != nil {
		return fmt.Errorf("retire provider %q: %w", provider, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("retire provider %q: commit: %w", provider, err)
	}
	return nil
}
