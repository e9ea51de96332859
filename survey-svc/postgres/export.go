package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"xii/survey-svc/survey"
)

// exportQuery returns the statement for one export page with filter f and
// its parameters: $1 the scan position's xid (xid8 has no driver type, so it
// travels as text), $2 its id, $3 the row limit, then one per filter value.
//
// The horizon is an uncorrelated subquery, evaluated once, and in the same
// snapshot as the rows because it is the same statement: a row is final when
// its transaction is older than every transaction that snapshot saw running.
//
// Each filter present adds a fixed "column = $n". A catch-all such as
//
//	($n = '' OR column = $n)
//
// would keep the planner from seeking the filter's index (see the migration).
func exportQuery(scan survey.Position, limit int, f survey.Filter) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT id, xid::text AS xid_text, survey, text, device, location, answers, created_at,
	xid < (SELECT pg_snapshot_xmin(pg_current_snapshot())) AS final
FROM responses
WHERE (xid, id) > ($1::xid8, $2)`)
	args := []any{strconv.FormatUint(scan.XID, 10), scan.ID, limit}
	for _, c := range []struct{ column, value string }{
		{"survey", f.Survey},
		{"device", f.Device},
		{"location", f.Location},
	} {
		if c.value == "" {
			continue
		}
		args = append(args, c.value)
		fmt.Fprintf(&b, "\n\tAND %s = $%d", c.column, len(args))
	}
	// Qualified: a bare "xid" here could name an output column, and an
	// output column's text sorts "10" before "9".
	b.WriteString("\nORDER BY responses.xid, responses.id\nLIMIT $3")
	return b.String(), args
}

// Export returns the page after q.After in (xid, id) order, following the
// scheme documented on survey.Cursor. A limit outside 1..survey.MaxExportLimit
// yields an error wrapping survey.ErrInvalid.
func (s *Store) Export(ctx context.Context, q survey.ExportQuery) (survey.Page, error) {
	if q.Limit < 1 || q.Limit > survey.MaxExportLimit {
		return survey.Page{}, fmt.Errorf("export page: %w: limit: must be between 1 and %d",
			survey.ErrInvalid, survey.MaxExportLimit)
	}
	// One row more than asked says whether there is more.
	query, args := exportQuery(q.After.Scan, q.Limit+1, q.Filter)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return survey.Page{}, fmt.Errorf("export page: %w", err)
	}
	defer rows.Close()

	page := survey.Page{Responses: make([]survey.Response, 0, min(q.Limit, 128))}
	next := q.After
	for rows.Next() {
		if len(page.Responses) == q.Limit {
			page.HasMore = true
			break
		}
		var (
			r       survey.Response
			xid     string
			answers []byte
			final   bool
		)
		if err := rows.Scan(&r.ID, &xid, &r.Survey, &r.Text, &r.Device, &r.Location,
			&answers, &r.CreatedAt, &final); err != nil {
			return survey.Page{}, fmt.Errorf("export page: %w", err)
		}
		x, err := strconv.ParseUint(xid, 10, 64)
		if err != nil {
			return survey.Page{}, fmt.Errorf("export page: parse xid: %w", err)
		}
		if answers != nil {
			r.Answers = answers
		}
		r.CreatedAt = r.CreatedAt.UTC()
		page.Responses = append(page.Responses, r)
		next = next.Advance(survey.Position{XID: x, ID: r.ID}, final)
	}
	if err := rows.Err(); err != nil {
		return survey.Page{}, fmt.Errorf("export page: %w", err)
	}
	if !page.HasMore {
		// Caught up: the next sync starts again at the last final row, so
		// rows that were not final yet are exported again, and late commits
		// before them are found.
		next = next.Rewind()
	}
	page.Next = next
	return page, nil
}
