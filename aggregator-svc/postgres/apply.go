package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
)

// Applied reports what one ApplyPage wrote. Records that were already
// stored with the same content count in neither field.
type Applied struct {
	Upserted int // Inserted + Updated
	Inserted int // records new to the aggregate
	Updated  int // stored records whose content changed
	// Quarantined is how many of the provider's records are in quarantine
	// once the page is stored.
	Quarantined int
}

const (
	// ensureCursor gives the provider a cursor row, and lockCursor locks it
	// for the rest of the transaction. Taking this lock before touching any
	// response serialises replicas applying pages of the same provider, so
	// their upserts can never deadlock on each other's rows.
	ensureCursor = `INSERT INTO provider_cursors (provider) VALUES ($1) ON CONFLICT (provider) DO NOTHING`
	lockCursor   = `SELECT cursor, retired, quarantined FROM provider_cursors WHERE provider = $1 FOR UPDATE`
	moveCursor   = `UPDATE provider_cursors SET cursor = $2, updated_at = now() WHERE provider = $1`

	// quarantine sets records aside, or refreshes those already aside.
	quarantine = `INSERT INTO quarantined_records (provider, provider_id, reason, record)
		SELECT $1, id, reason, record FROM unnest($2::text[], $3::text[], $4::text[]) AS q(id, reason, record)
		ON CONFLICT (provider, provider_id) DO UPDATE SET reason = EXCLUDED.reason, record = EXCLUDED.record, last_seen = now()`
	// release takes records that came again valid out of quarantine.
	release = `DELETE FROM quarantined_records WHERE provider = $1 AND provider_id = ANY($2::text[])`
	// moveCursorCounted moves the cursor and recounts the quarantine.
	moveCursorCounted = `UPDATE provider_cursors SET cursor = $2, updated_at = now(),
		quarantined = (SELECT count(*) FROM quarantined_records WHERE provider = $1) WHERE provider = $1 RETURNING quarantined`
)

// ApplyPage stores page's records for provider and moves the provider's
// cursor from `from` to page.Next, all in one transaction (see the package
// documentation). Records are upserted on (provider, ProviderID); when a
// page holds one ProviderID more than once, the last occurrence wins.
//
// Errors: aggregate.ErrConflict when the stored cursor is not `from` (another
// replica applied a page first; nothing was written), aggregate.ErrRetired
// when the provider was retired (nothing was written), aggregate.ErrInvalid
// for an empty provider or a record the aggregate cannot hold (nothing was
// written), the error of Hooks.BeforeCommit, or a database error. After a
// database error at COMMIT the page may or may not be stored: retrying
// from the same cursor either applies it or returns ErrConflict.
func (s *Store) ApplyPage(ctx context.Context, provider, from string, page aggregate.Page) (Applied, error) {
	ctx, span := s.tracer.Start(ctx, "apply page", trace.WithAttributes(
		attribute.String("xii.provider", provider),
		attribute.Int("xii.apply.records", len(page.Records))))
	defer span.End()

	records, err := validatePage(provider, page)
	if err == nil {
		err = validateQuarantined(page.Quarantined)
	}
	if err != nil {
		err = fmt.Errorf("apply page: %w", err)
		span.SetStatus(codes.Error, err.Error())
		return Applied{}, err
	}
	applied, err := s.applyPage(ctx, provider, from, page.Next, records, page.Quarantined)
	err = withCause(ctx, err) // a page cut by the round's deadline is a timeout, not a failure
	switch {
	case errors.Is(err, aggregate.ErrConflict):
		// Expected when replicas share a provider; the caller rereads.
		span.SetAttributes(attribute.Bool("xii.apply.conflict", true))
		return Applied{}, fmt.Errorf("apply page of %q: %w", provider, err)
	case err != nil:
		err = fmt.Errorf("apply page of %q: %w", provider, err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return Applied{}, err
	}
	span.SetAttributes(attribute.Int("xii.apply.inserted", applied.Inserted), attribute.Int("xii.apply.updated", applied.Updated),
		attribute.Int("xii.apply.quarantined", len(page.Quarantined)))
	return applied, nil
}

func (s *Store) applyPage(ctx context.Context, provider, from, next string, records []aggregate.Record, aside []aggregate.Quarantined) (_ Applied, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Applied{}, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback() // the failure is the error worth reporting
		}
	}()

	if _, err := tx.ExecContext(ctx, ensureCursor, provider); err != nil {
		return Applied{}, fmt.Errorf("create cursor: %w", err)
	}
	var stored string
	var retired bool
	var quarantined int
	if err := tx.QueryRowContext(ctx, lockCursor, provider).Scan(&stored, &retired, &quarantined); err != nil {
		return Applied{}, fmt.Errorf("lock cursor: %w", err)
	}
	if retired {
		return Applied{}, aggregate.ErrRetired
	}
	if stored != from {
		return Applied{}, fmt.Errorf("%w: it is no longer the cursor the page was fetched from", aggregate.ErrConflict)
	}

	var applied Applied
	switch {
	case len(records) == 0:
	case len(records) < copyThreshold:
		applied, err = upsertValues(ctx, tx, provider, records)
	case s.copyPages:
		applied, err = upsertCopy(ctx, tx, provider, records)
	case s.upsertPages:
		applied, err = upsertColumns(ctx, tx, provider, columns(records))
	default:
		applied, err = s.insertOrUpsert(ctx, tx, provider, records)
	}
	if err != nil {
		return Applied{}, translate(err)
	}

	if applied.Quarantined, err = moveCursorQuarantining(ctx, tx, provider, next, records, aside, quarantined); err != nil {
		return Applied{}, err
	}
	if hook := s.hooks.BeforeCommit; hook != nil {
		if err := hook(ctx, provider); err != nil {
			return Applied{}, fmt.Errorf("before commit: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			// database/sql may report a transaction it rolled back on
			// cancellation as merely done; keep the reason visible.
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return Applied{}, fmt.Errorf("commit: %w", err)
	}
	return applied, nil
}

// moveCursorQuarantining sets aside's records aside, takes records that
// are valid now out of quarantine, and moves the cursor, returning the
// provider's quarantined count after. A provider with nothing in or going
// into quarantine, the common case, costs the one UPDATE it always did.
func moveCursorQuarantining(ctx context.Context, tx *sql.Tx, provider, next string, records []aggregate.Record, aside []aggregate.Quarantined, before int) (int, error) {
	if len(aside) == 0 && before == 0 {
		if _, err := tx.ExecContext(ctx, moveCursor, provider, next); err != nil {
			return 0, fmt.Errorf("move cursor: %w", err)
		}
		return 0, nil
	}
	if before > 0 && len(records) > 0 {
		ids := make([]string, len(records))
		for i, r := range records {
			ids[i] = r.ProviderID
		}
		if _, err := tx.ExecContext(ctx, release, provider, pq.Array(ids)); err != nil {
			return 0, fmt.Errorf("release from quarantine: %w", err)
		}
	}
	if len(aside) > 0 {
		ids, reasons, raws := make([]string, len(aside)), make([]string, len(aside)), make([]string, len(aside))
		for i, q := range aside {
			ids[i], reasons[i], raws[i] = q.ProviderID, q.Reason, string(q.Record)
		}
		if _, err := tx.ExecContext(ctx, quarantine, provider, pq.Array(ids), pq.Array(reasons), pq.Array(raws)); err != nil {
			return 0, fmt.Errorf("quarantine: %w", err)
		}
	}
	var after int
	if err := tx.QueryRowContext(ctx, moveCursorCounted, provider, next).Scan(&after); err != nil {
		return 0, fmt.Errorf("move cursor: %w", err)
	}
	return after, nil
}

// validateQuarantined checks that records set aside can be kept: text the
// schema holds, their ids once.
func validateQuarantined(aside []aggregate.Quarantined) error {
	seen := make(map[string]bool, len(aside))
	for i, q := range aside {
		switch {
		case q.ProviderID == "" || !validText(q.ProviderID) || !validText(q.Reason) || !validText(string(q.Record)):
			return fmt.Errorf("%w: quarantined record %d is not valid text", aggregate.ErrInvalid, i)
		case seen[q.ProviderID]:
			return fmt.Errorf("%w: quarantined record %q given twice", aggregate.ErrInvalid, q.ProviderID)
		}
		seen[q.ProviderID] = true
	}
	return nil
}

// validatePage checks what the schema cannot hold and returns page's
// records with each ProviderID once: the last occurrence's content in the
// first occurrence's place. One INSERT ... ON CONFLICT DO UPDATE may not
// touch a row twice, so both write paths need the duplicates gone.
func validatePage(name string, page aggregate.Page) ([]aggregate.Record, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: provider is empty", aggregate.ErrInvalid)
	}
	if !validText(name) {
		return nil, fmt.Errorf("%w: provider is not valid text", aggregate.ErrInvalid)
	}
	if !validText(page.Next) {
		return nil, fmt.Errorf("%w: next cursor is not valid text", aggregate.ErrInvalid)
	}
	records := make([]aggregate.Record, 0, len(page.Records))
	seen := make(map[string]int, len(page.Records))
	for i, r := range page.Records {
		if err := validateRecord(r); err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", aggregate.ErrInvalid, i, err)
		}
		if at, ok := seen[r.ProviderID]; ok {
			records[at] = r
			continue
		}
		seen[r.ProviderID] = len(records)
		records = append(records, r)
	}
	return records, nil
}

func validateRecord(r aggregate.Record) error {
	if r.ProviderID == "" {
		return fmt.Errorf("provider_id is empty")
	}
	for _, f := range []struct{ name, value string }{
		{"provider_id", r.ProviderID},
		{"survey", r.Survey},
		{"text", r.Text},
		{"device", r.Device},
		{"location", r.Location},
	} {
		if !validText(f.value) {
			return fmt.Errorf("%s is not valid text", f.name)
		}
	}
	if r.CreatedAt.IsZero() {
		return fmt.Errorf("created_at is not set")
	}
	if len(r.Answers) > 0 && !json.Valid(r.Answers) {
		return fmt.Errorf("answers is not valid JSON")
	}
	return nil
}

// validText reports whether s can be stored as PostgreSQL text: UTF-8
// without NUL bytes.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// answersArg returns the answers parameter: lib/pq sends []byte as bytea,
// and jsonb wants the text.
func answersArg(a json.RawMessage) any {
	if len(a) == 0 {
		return nil
	}
	return string(a)
}

// translate maps the driver errors that mean "bad value" to
// aggregate.ErrInvalid and leaves the rest alone.
func translate(err error) error {
	pqErr := pq.As(err)
	switch {
	case pqErr == nil:
		return err
	case pqErr.Code == pqerror.CheckViolation || pqErr.Code == pqerror.NotNullViolation,
		pqErr.Code.Class() == "22": // data exception: bad encoding, bad JSON, ...
		return fmt.Errorf("%w: %w", aggregate.ErrInvalid, err)
	}
	return err
}
