package pgdb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// migrationLock is the advisory lock key that serialises migrations of one
// database (advisory locks are per database). It is an arbitrary constant
// that no other code uses, and the same for every store, because stores
// sharing a database share its schema_migrations table too.
const migrationLock int64 = 0x786969_5f6d6967 // "xii_mig"

// migrate applies every migrations/*.sql in fsys that the database has not
// recorded in schema_migrations, in name order, each in its own transaction
// under migrationLock, so instances that start together apply each step
// exactly once.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, name := range names { // fs.Glob returns names sorted
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		version := strings.TrimSuffix(path.Base(name), ".sql")
		if err := migrateStep(ctx, db, version, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
	}
	return nil
}

func migrateStep(ctx context.Context, db *sql.DB, version, body string) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback() // the step's error is the one worth reporting
		}
	}()

	// The lock is released when the transaction ends; a concurrent instance
	// waits here and then sees this step recorded.
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied bool
	if err := tx.QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", version,
	).Scan(&applied); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if applied {
		return tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
