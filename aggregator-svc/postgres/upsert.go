package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"xii/aggregator-svc/aggregate"
)

// copyThreshold is the page size from which records go as arrays (unnest)
// instead of one multi-row INSERT with a parameter per value (at most
// 65535). It is named for the COPY into a staging table that unnest
// replaced (Store.copyPages brings it back, for measurements).
const copyThreshold = 256

// onConflict makes an upsert idempotent: a record stored again with the same
// content is left alone (no new row version, no synced_at change), one whose
// content changed is updated. RETURNING marks inserted rows: only a row this
// statement inserted has no deleting or locking transaction (xmax = 0).
const onConflict = `
ON CONFLICT (provider, provider_id) DO UPDATE SET
	survey = excluded.survey, text = excluded.text, device = excluded.device,
	location = excluded.location, answers = excluded.answers,
	created_at = excluded.created_at, synced_at = now()
WHERE (r.survey, r.text, r.device, r.location, r.answers, r.created_at)
	IS DISTINCT FROM
	(excluded.survey, excluded.text, excluded.device, excluded.location, excluded.answers, excluded.created_at)
RETURNING r.xmax = 0 AS inserted`

const (
	insertColumns = `INSERT INTO responses AS r (provider, provider_id, survey, text, device, location, answers, created_at)`

	createStaging = `CREATE TEMP TABLE apply_staging (
	provider_id text, survey text, text text, device text, location text, answers jsonb, created_at timestamptz
) ON COMMIT DROP`
	copyStaging  = `COPY apply_staging (provider_id, survey, text, device, location, answers, created_at) FROM STDIN`
	mergeStaging = insertColumns + `
SELECT $1, provider_id, survey, text, device, location, answers, created_at FROM apply_staging` + onConflict

	// insertNewUnnest takes the page as one array per column: one
	// statement and one round trip at any page size, no staging table.
	// insertUnnest is the same statement made an upsert.
	insertNewUnnest = insertColumns + `
SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[])
	AS u(provider_id, survey, text, device, location, answers, created_at)`
	insertUnnest = insertNewUnnest + onConflict
)

// columns are a page's records as one array per column, the parameters
// $2..$8 of insertUnnest and insertNewUnnest.
func columns(records []aggregate.Record) []any {
	n := len(records)
	ids, surveys, texts, devices, locations := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	answers, created := make([]sql.NullString, n), make([]string, n)
	for i, r := range records {
		ids[i], surveys[i], texts[i], devices[i], locations[i] = r.ProviderID, r.Survey, r.Text, r.Device, r.Location
		answers[i] = sql.NullString{String: string(r.Answers), Valid: len(r.Answers) > 0}
		created[i] = r.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	return []any{pq.Array(ids), pq.Array(surveys), pq.Array(texts), pq.Array(devices), pq.Array(locations),
		pq.Array(answers), pq.Array(created)}
}

// upsertColumns stores a page given as columns, each ProviderID at most
// once, with one INSERT of the records as arrays.
func upsertColumns(ctx context.Context, tx *sql.Tx, provider string, cols []any) (Applied, error) {
	a, err := countApplied(ctx, tx, insertUnnest, append([]any{provider}, cols...)...)
	if err != nil {
		return Applied{}, fmt.Errorf("upsert: %w", err)
	}
	return a, nil
}

// insertOrUpsert stores records, each ProviderID at most once, first as
// all new: a backlog's pages are, and a plain INSERT skips the conflict
// check of every row an upsert makes (1.04-1.2x the rows per second at
// 1M rows, docs/measurements.md). A page holding a record already stored fails
// that INSERT with a unique violation; it is rolled back to a savepoint,
// which undoes its rows and their rollup and version counts, and the page
// is upserted. So that a provider whose large pages come again (a rescan)
// does not pay for both each time, the store remembers it in mixed and
// upserts its pages until one turns out all new.
func (s *Store) insertOrUpsert(ctx context.Context, tx *sql.Tx, provider string, records []aggregate.Record) (Applied, error) {
	cols := columns(records)
	if _, mixed := s.mixed.Load(provider); mixed {
		a, err := upsertColumns(ctx, tx, provider, cols)
		if err == nil && a.Inserted == len(records) {
			s.mixed.Delete(provider)
		}
		return a, err
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT insert_new"); err != nil {
		return Applied{}, fmt.Errorf("savepoint: %w", err)
	}
	res, err := tx.ExecContext(ctx, insertNewUnnest, append([]any{provider}, cols...)...)
	if err == nil {
		n, err := res.RowsAffected()
		if err != nil {
			return Applied{}, fmt.Errorf("insert: %w", err)
		}
		return Applied{Upserted: int(n), Inserted: int(n)}, nil
	}
	if pqErr := pq.As(err); pqErr == nil || pqErr.Code != pqerror.UniqueViolation {
		return Applied{}, fmt.Errorf("insert: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT insert_new"); err != nil {
		return Applied{}, fmt.Errorf("rollback to savepoint: %w", err)
	}
	s.mixed.Store(provider, struct{}{})
	return upsertColumns(ctx, tx, provider, cols)
}

// upsertValues stores records, each ProviderID at most once, with one
// multi-row INSERT.
func upsertValues(ctx context.Context, tx *sql.Tx, provider string, records []aggregate.Record) (Applied, error) {
	const perRecord = 7
	var q strings.Builder
	q.WriteString(insertColumns)
	q.WriteString("\nVALUES ")
	args := make([]any, 0, 1+perRecord*len(records))
	args = append(args, provider)
	for i, r := range records {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("($1")
		for j := range perRecord {
			q.WriteString(", $")
			q.WriteString(strconv.Itoa(2 + i*perRecord + j))
		}
		q.WriteString(")")
		args = append(args, r.ProviderID, r.Survey, r.Text, r.Device, r.Location, answersArg(r.Answers), r.CreatedAt)
	}
	q.WriteString(onConflict)
	a, err := countApplied(ctx, tx, q.String(), args...)
	if err != nil {
		return Applied{}, fmt.Errorf("upsert: %w", err)
	}
	return a, nil
}

// upsertCopy stores records, each ProviderID at most once, by COPY into a
// staging table that lives until the transaction ends and one merge.
func upsertCopy(ctx context.Context, tx *sql.Tx, provider string, records []aggregate.Record) (Applied, error) {
	if _, err := tx.ExecContext(ctx, createStaging); err != nil {
		return Applied{}, fmt.Errorf("create staging table: %w", err)
	}
	if err := copyRecords(ctx, tx, records); err != nil {
		return Applied{}, fmt.Errorf("copy to staging table: %w", err)
	}
	a, err := countApplied(ctx, tx, mergeStaging, provider)
	if err != nil {
		return Applied{}, fmt.Errorf("merge staging table: %w", err)
	}
	return a, nil
}

func copyRecords(ctx context.Context, tx *sql.Tx, records []aggregate.Record) (err error) {
	stmt, err := tx.PrepareContext(ctx, copyStaging)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := stmt.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for _, r := range records {
		// lib/pq buffers the rows and reports a failure at a later call.
		if _, err := stmt.ExecContext(ctx, r.ProviderID, r.Survey, r.Text, r.Device, r.Location, answersArg(r.Answers), r.CreatedAt); err != nil {
			return err
		}
	}
	_, err = stmt.ExecContext(ctx) // ends the COPY and reports its outcome
	return err
}

// countApplied runs upsert and counts the rows it inserted and updated from
// what it returns: one boolean per row written.
func countApplied(ctx context.Context, tx *sql.Tx, upsert string, args ...any) (Applied, error) {
	rows, err := tx.QueryContext(ctx, upsert, args...)
	if err != nil {
		return Applied{}, err
	}
	defer rows.Close()
	var a Applied
	for rows.Next() {
		var inserted bool
		if err := rows.Scan(&inserted); err != nil {
			return Applied{}, err
		}
		if inserted {
			a.Inserted++
		} else {
			a.Updated++
		}
	}
	a.Upserted = a.Inserted + a.Updated
	return a, rows.Err()
}
