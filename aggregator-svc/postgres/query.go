package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"xii/aggregator-svc/aggregate"
)

const (
	selectResponses = `SELECT provider, provider_id, survey, text, device, location, answers, created_at
FROM responses`
	readOrder = `ORDER BY created_at DESC, provider DESC, provider_id DESC`
)

// Query returns one page of the responses matching q.Filter in Key order,
// newest first, starting after q.After. A page is one index range scan (see
// the migration's index notes) whatever its depth.
//
// Errors: aggregate.ErrInvalid for a limit outside 1..aggregate.MaxLimit, or
// a database error, which wraps ctx's error when ctx ended (see withCause).
func (s *Store) Query(ctx context.Context, q aggregate.Query) (_ aggregate.ResultPage, err error) {
	defer func() { err = withCause(ctx, err) }()
	if q.Limit < 1 || q.Limit > aggregate.MaxLimit {
		return aggregate.ResultPage{}, fmt.Errorf("query responses: %w: limit must be 1..%d", aggregate.ErrInvalid, aggregate.MaxLimit)
	}
	query, args := pageQuery(q)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return aggregate.ResultPage{}, fmt.Errorf("query responses: %w", err)
	}
	defer rows.Close()
	page := aggregate.ResultPage{Responses: make([]aggregate.Response, 0, min(q.Limit, 64))}
	for rows.Next() {
		var (
			r       aggregate.Response
			answers []byte
		)
		if err := rows.Scan(&r.Provider, &r.ProviderID, &r.Survey, &r.Text, &r.Device, &r.Location, &answers, &r.CreatedAt); err != nil {
			return aggregate.ResultPage{}, fmt.Errorf("query responses: scan: %w", err)
		}
		if answers != nil {
			r.Answers = answers
		}
		r.CreatedAt = r.CreatedAt.UTC()
		page.Responses = append(page.Responses, r)
	}
	if err := rows.Err(); err != nil {
		return aggregate.ResultPage{}, fmt.Errorf("query responses: %w", err)
	}
	if len(page.Responses) > q.Limit {
		page.Responses = page.Responses[:q.Limit]
		last := page.Responses[q.Limit-1]
		page.Next = &aggregate.Key{CreatedAt: last.CreatedAt, Provider: last.Provider, ProviderID: last.ProviderID}
	}
	return page, nil
}

// pageQuery returns the statement and parameters that read q's page and
// one row more, which tells whether there is a next page.
func pageQuery(q aggregate.Query) (string, []any) {
	w := filterWhere(q.Filter)
	if q.After != nil {
		w.after(q.Filter.Provider, *q.After)
	}
	query := selectResponses + w.String() + "\n" + readOrder + "\nLIMIT " + w.arg(q.Limit+1)
	return query, w.args
}

// where is a WHERE clause under construction: fixed fragments, one per
// condition present, with every value a parameter. A filter that is absent
// adds nothing, rather than a condition that holds when its parameter is
// empty: that would hide from the planner which index fits.
type where struct {
	conds []string
	args  []any
}

// filterWhere returns the conditions of f on responses.
func filterWhere(f aggregate.Filter) *where { return filterWhereOn(f, "created_at") }

// filterWhereOn returns the conditions of f, with Since and Until bounding
// timeCol.
func filterWhereOn(f aggregate.Filter, timeCol string) *where {
	w := &where{}
	for _, eq := range []struct{ column, value string }{
		{"survey", f.Survey},
		{"device", f.Device},
		{"location", f.Location},
		{"provider", f.Provider},
	} {
		if eq.value != "" {
			w.add(eq.column + " = " + w.arg(eq.value))
		}
	}
	if !f.Since.IsZero() {
		w.add(timeCol + " >= " + w.arg(f.Since))
	}
	if !f.Until.IsZero() {
		w.add(timeCol + " < " + w.arg(f.Until))
	}
	return w
}

// after restricts w to the rows after k in read order. With the provider
// filtered to p the comparison leaves provider out, so that it stays an
// index condition of the index led by provider; k from another provider
// then only bounds created_at. (provider is COLLATE "C", so Go's string
// order is the database's.)
func (w *where) after(p string, k aggregate.Key) {
	switch {
	case p == "":
		w.add("(created_at, provider, provider_id) < (" + w.arg(k.CreatedAt) + ", " + w.arg(k.Provider) + ", " + w.arg(k.ProviderID) + ")")
	case p == k.Provider:
		w.add("(created_at, provider_id) < (" + w.arg(k.CreatedAt) + ", " + w.arg(k.ProviderID) + ")")
	case p < k.Provider:
		w.add("created_at <= " + w.arg(k.CreatedAt))
	default:
		w.add("created_at < " + w.arg(k.CreatedAt))
	}
}

// arg adds a parameter and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// String returns the clause with a leading newline, or "" without
// conditions.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(w.conds, " AND ")
}
