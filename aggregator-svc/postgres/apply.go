package postgres

import (
	"context"
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
}

const (
	// ensureCursor gives the provider a cursor row, and lockCursor locks it
	// for the rest of the transaction. Taking this lock before touching any
	// response serialises replicas applying pages of the same provider, so
	// their upserts can never deadlock on each other's rows.
	ensureCursor = `INSERT INTO provider_cursors (provider) VALUES ($1) ON CONFLICT (provider) DO NOTHING`
	lockCursor   = `SELECT cursor, retired FROM provider_cursors WHERE provider = $1 FOR UPDATE`
	moveCursor   = `UPDATE provider_cursors SET cursor = $2, updated_at = now() WHERE provider = $1`
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
	if err != nil {
		err = fmt.Errorf("apply page: %w", err)
		span.SetStatus(codes.Error, err.Error())
		return Applied{}, err
	}
	applied, err := s.applyPage(ctx, provider, from, page.Next, records)
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
	span.SetAttributes(attribute.Int("xii.apply.inserted", applied.Inserted), attribute.Int("xii.apply.updated", applied.Updated))
	return applied, nil
}

func (s *Store) applyPage(ctx context.Context, provider, from, next string, records []aggregate.Record) (_ Applied, err error) {
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
	if err := tx.QueryRowContext(ctx, lockCursor, provider).Scan(&stored, &retired); err != nil {
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
	default:
		applied, err = upsertCopy(ctx, tx, provider, records)
	}
	if err != nil {
		return Applied{}, translate(err)
	}

	if _, err := tx.ExecContext(ctx, moveCursor, provider, next); err != nil {
		return Applied{}, fmt.Errorf("move cursor: %w", err)
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
