package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"xii/survey-svc/survey"
)

// insertResponse stores one response; xid and created_at take their defaults.
const insertResponse = `INSERT INTO responses (survey, text, device, location, answers)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, created_at`

// insertResponses stores several in one statement, in the arrays' order:
// identities are drawn as the rows are inserted, so ascending ids follow
// the ordinality.
const insertResponses = `INSERT INTO responses (survey, text, device, location, answers)
SELECT s, t, d, l, a::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(s, t, d, l, a, n)
ORDER BY n
RETURNING id, created_at`

// Concurrent Creates are stored together. A Create that finds fewer than
// maxInserts statements running runs one at once, with every response
// waiting then; one that finds them all busy waits for the next, which
// takes at most maxBatch. Alone, a Create costs what it always did; at 32
// at once, a few statements and commits serve them all, instead of one
// each (docs/measurements.md §1). Each response is acknowledged only once
// its statement has committed.
const (
	tracerName = "xii/survey-svc/postgres"
	maxInserts = 4
	maxBatch   = 64
	// batchTimeout bounds a statement whose waiters set no deadline.
	batchTimeout = 10 * time.Second
)

// pendingCreate is a Create waiting for its statement.
type pendingCreate struct {
	ctx  context.Context
	r    survey.NewResponse
	done chan createResult // buffered: the inserter never blocks on it
}

type createResult struct {
	resp survey.Response
	err  error
}

// Create stores r and returns it with ID and CreatedAt set. Values the
// schema refuses (see the CHECK constraints) yield an error wrapping
// survey.ErrInvalid. If ctx ends while r's statement runs, Create returns
// ctx's error and r may or may not be stored, as with any statement cut
// short at its commit.
func (s *Store) Create(ctx context.Context, r survey.NewResponse) (survey.Response, error) {
	c := &pendingCreate{ctx: ctx, r: r, done: make(chan createResult, 1)}
	s.mu.Lock()
	s.pending = append(s.pending, c)
	if s.inserts < maxInserts {
		s.inserts++
		go s.insertPending() // takes c with the others waiting
	}
	s.mu.Unlock()

	select {
	case res := <-c.done:
		return res.resp, res.err
	case <-ctx.Done():
		// Withdrawn, it is never stored; taken already, it may be.
		s.withdraw(c)
		return survey.Response{}, fmt.Errorf("create response: %w", ctx.Err())
	}
}

// withdraw takes c off the waiting list, unless a statement took it.
func (s *Store) withdraw(c *pendingCreate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.pending, c); i >= 0 {
		s.pending = slices.Delete(s.pending, i, i+1)
	}
}

// insertPending stores the waiting responses, maxBatch at a time, until
// none waits; it holds one of the maxInserts slots.
func (s *Store) insertPending() {
	for {
		s.mu.Lock()
		n := min(len(s.pending), maxBatch)
		if n == 0 {
			s.inserts--
			s.mu.Unlock()
			return
		}
		batch := slices.Clone(s.pending[:n])
		s.pending = slices.Delete(s.pending, 0, n)
		s.mu.Unlock()
		s.insertBatch(batch)
	}
}

// insertBatch stores batch and answers each of its Creates.
func (s *Store) insertBatch(batch []*pendingCreate) {
	ctx, cancel := batchContext(batch)
	defer cancel()
	if len(batch) == 1 {
		resp, err := s.createOne(ctx, batch[0].r)
		batch[0].done <- createResult{resp, err}
		return
	}
	// The tracer of the first waiter's span, as otelsql's spans below.
	tracer := trace.SpanFromContext(ctx).TracerProvider().Tracer(tracerName)
	ctx, span := tracer.Start(ctx, "insert responses", trace.WithLinks(batchLinks(batch)...),
		trace.WithAttributes(attribute.Int("xii.insert.batch", len(batch))))
	defer span.End()
	resps, err := s.createMany(ctx, batch)
	if pqErr := pq.As(err); pqErr != nil && (pqErr.Code.Class() == "22" || pqErr.Code.Class() == "23") {
		// A value the schema refuses failed the statement, so nothing of it
		// is stored: store each alone, so that only the bad ones fail.
		span.SetAttributes(attribute.Bool("xii.insert.one_by_one", true))
		for _, c := range batch {
			resp, err := s.createOne(ctx, c.r)
			c.done <- createResult{resp, err}
		}
		return
	}
	if err != nil {
		err = fmt.Errorf("create responses: %w", translate(err))
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	for i, c := range batch {
		if err != nil {
			c.done <- createResult{err: err}
			continue
		}
		c.done <- createResult{resp: resps[i]}
	}
}

// batchContext is the context of batch's statement: the first waiter's
// trace, never cancelled by one waiter leaving, until the last deadline.
func batchContext(batch []*pendingCreate) (context.Context, context.CancelFunc) {
	var last time.Time
	for _, c := range batch {
		d, ok := c.ctx.Deadline()
		if !ok {
			last = time.Now().Add(batchTimeout)
			break
		}
		if d.After(last) {
			last = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), last)
}

// batchLinks links a statement's span to the requests it serves.
func batchLinks(batch []*pendingCreate) []trace.Link {
	links := make([]trace.Link, 0, len(batch))
	for _, c := range batch {
		links = append(links, trace.LinkFromContext(c.ctx))
	}
	return links
}

// createOne stores r with one single-row INSERT.
func (s *Store) createOne(ctx context.Context, r survey.NewResponse) (survey.Response, error) {
	resp := asStored(r)
	err := s.db.QueryRowContext(ctx, insertResponse, insertArgs(r)...).Scan(&resp.ID, &resp.CreatedAt)
	if err != nil {
		return survey.Response{}, fmt.Errorf("create response: %w", translate(err))
	}
	resp.CreatedAt = resp.CreatedAt.UTC()
	return resp, nil
}

// createMany stores batch's responses with one INSERT and returns them in
// batch's order. An error is the driver's, untranslated.
func (s *Store) createMany(ctx context.Context, batch []*pendingCreate) ([]survey.Response, error) {
	n := len(batch)
	surveys, texts, devices, locations := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	answers := make([]sql.NullString, n)
	for i, c := range batch {
		surveys[i], texts[i], devices[i], locations[i] = c.r.Survey, c.r.Text, c.r.Device, c.r.Location
		if len(c.r.Answers) > 0 {
			answers[i] = sql.NullString{String: string(c.r.Answers), Valid: true}
		}
	}
	rows, err := s.db.QueryContext(ctx, insertResponses,
		pq.Array(surveys), pq.Array(texts), pq.Array(devices), pq.Array(locations), pq.Array(answers))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type stored struct {
		id int64
		at time.Time
	}
	got := make([]stored, 0, n)
	for rows.Next() {
		var st stored
		if err := rows.Scan(&st.id, &st.at); err != nil {
			return nil, err
		}
		got = append(got, st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(got) != n {
		return nil, fmt.Errorf("create responses: %d rows stored for %d", len(got), n)
	}
	slices.SortFunc(got, func(a, b stored) int { return cmp.Compare(a.id, b.id) })
	resps := make([]survey.Response, n)
	for i, c := range batch {
		resps[i] = asStored(c.r)
		resps[i].ID, resps[i].CreatedAt = got[i].id, got[i].at.UTC()
	}
	return resps, nil
}

// asStored is r as stored, without its ID and CreatedAt.
func asStored(r survey.NewResponse) survey.Response {
	return survey.Response{Survey: r.Survey, Text: r.Text, Device: r.Device, Location: r.Location, Answers: r.Answers}
}

// insertArgs returns insertResponse's parameters for r.
func insertArgs(r survey.NewResponse) []any {
	// lib/pq sends []byte as bytea; jsonb wants the text.
	var answers any
	if len(r.Answers) > 0 {
		answers = string(r.Answers)
	}
	return []any{r.Survey, r.Text, r.Device, r.Location, answers}
}

// translate maps the driver errors that mean "bad value" to survey.ErrInvalid
// and leaves the rest alone.
func translate(err error) error {
	pqErr := pq.As(err)
	switch {
	case pqErr == nil:
		return err
	case pqErr.Code == pqerror.CheckViolation:
		// Constraints are named responses_<field>_<rule>.
		field, _, _ := strings.Cut(strings.TrimPrefix(pqErr.Constraint, "responses_"), "_")
		return fmt.Errorf("%w: %s: refused by constraint %s", survey.ErrInvalid, field, pqErr.Constraint)
	case pqErr.Code == pqerror.NotNullViolation:
		return fmt.Errorf("%w: %s: required", survey.ErrInvalid, pqErr.Column)
	case pqErr.Code.Class() == "22": // data exception: bad encoding, bad JSON, ...
		return fmt.Errorf("%w: %s", survey.ErrInvalid, pqErr.Message)
	}
	return err
}
