package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"xii/survey-svc/survey"
	"xii/testkit/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openStore opens a Store on a fresh database, closed and dropped when tb
// ends.
func openStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	url := pgtest.NewDatabase(tb)
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, url, opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// response returns a valid NewResponse whose text says n.
func response(n int) survey.NewResponse {
	return survey.NewResponse{
		Survey:   survey.DefaultSurvey,
		Text:     fmt.Sprintf("response %d", n),
		Device:   "iOS",
		Location: "Germany",
	}
}

// create stores n responses made by mk and returns their ids.
func create(tb testing.TB, s *Store, n int, mk func(i int) survey.NewResponse) []int64 {
	tb.Helper()
	ids := make([]int64, 0, n)
	for i := range n {
		r, err := s.Create(tb.Context(), mk(i))
		if err != nil {
			tb.Fatalf("create %d: %v", i, err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// sweep pages from c until the export is caught up and returns the pages.
func sweep(tb testing.TB, s *Store, c survey.Cursor, limit int, f survey.Filter) []survey.Page {
	tb.Helper()
	var pages []survey.Page
	for {
		p, err := s.Export(tb.Context(), survey.ExportQuery{After: c, Limit: limit, Filter: f})
		if err != nil {
			tb.Fatalf("export after %#v: %v", c, err)
		}
		pages = append(pages, p)
		if !p.HasMore {
			return pages
		}
		c = p.Next
	}
}

// ids lists the ids of the responses on pages, in order.
func ids(pages ...survey.Page) []int64 {
	var out []int64
	for _, p := range pages {
		for _, r := range p.Responses {
			out = append(out, r.ID)
		}
	}
	return out
}

// heldInsert inserts a response in a transaction it leaves open and returns
// the transaction and the row's position.
func heldInsert(tb testing.TB, db *sql.DB, r survey.NewResponse) (*sql.Tx, survey.Position) {
	tb.Helper()
	tx, err := db.BeginTx(tb.Context(), nil)
	if err != nil {
		tb.Fatalf("begin: %v", err)
	}
	pos, err := insertTx(tb.Context(), tx, r)
	if err != nil {
		tx.Rollback()
		tb.Fatalf("insert: %v", err)
	}
	return tx, pos
}

// insertTx inserts r in tx as Create does and returns its position.
func insertTx(ctx context.Context, tx *sql.Tx, r survey.NewResponse) (survey.Position, error) {
	var (
		pos survey.Position
		xid string
	)
	query := strings.Replace(insertResponse, "RETURNING id, created_at", "RETURNING id, xid::text", 1)
	if query == insertResponse {
		return pos, errors.New("insertResponse no longer ends in RETURNING id, created_at")
	}
	if err := tx.QueryRowContext(ctx, query, insertArgs(r)...).Scan(&pos.ID, &xid); err != nil {
		return pos, err
	}
	var err error
	pos.XID, err = strconv.ParseUint(xid, 10, 64)
	return pos, err
}

// naiveExporter is the broken design survey.Cursor argues against: it pages
// by "id > last id". Tests run it beside Store.Export to show that they
// would catch a skipped late commit.
type naiveExporter struct {
	db     *sql.DB
	lastID int64
}

// page returns the ids after the last one seen, at most limit of them.
func (n *naiveExporter) page(ctx context.Context, limit int) ([]int64, error) {
	rows, err := n.db.QueryContext(ctx, "SELECT id FROM responses WHERE id > $1 ORDER BY id LIMIT $2", n.lastID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
		n.lastID = id
	}
	return out, rows.Err()
}

// seed inserts n rows in one statement. Their survey, device and location
// are spread evenly and independently over values values each ("s0", "s1",
// ...; "d0", ...; "l0", ...), except that every rareEvery-th row (none if 0)
// is "s-rare", "d-rare", "l-rare".
//
// Every four rows get their own made-up xid, as if each group had been
// committed by its own transaction: a single xid for all rows would be
// unlike real traffic, and would mislead the planner, which estimates the
// (xid, id) bound from xid alone.
func seed(tb testing.TB, db *sql.DB, n, values, rareEvery int) {
	tb.Helper()
	_, err := db.ExecContext(tb.Context(), `INSERT INTO responses (xid, survey, text, device, location)
		SELECT (i / 4 + 1)::text::xid8, coalesce(r || 's-rare', 's' || (i % $2)), 'response ' || i,
			coalesce(r || 'd-rare', 'd' || (i / $2 % $2)), coalesce(r || 'l-rare', 'l' || (i / $2 / $2 % $2))
		FROM generate_series(0, $1 - 1) AS i,
			LATERAL (SELECT CASE WHEN $3 > 0 AND i % $3 = 0 THEN '' END AS r) AS rare`, n, values, rareEvery)
	if err != nil {
		tb.Fatalf("seed: %v", err)
	}
	if _, err := db.ExecContext(tb.Context(), "ANALYZE responses"); err != nil {
		tb.Fatalf("analyze: %v", err)
	}
}

// openTransactions describes the server's transactions that hold an xid.
func openTransactions(tb testing.TB, db *sql.DB) string {
	tb.Helper()
	rows, err := db.QueryContext(tb.Context(), `SELECT datname, pid, backend_xid::text, state, now() - xact_start
		FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY age(backend_xid) DESC`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var datname, xid, state, age sql.NullString
		var pid int
		if err := rows.Scan(&datname, &pid, &xid, &state, &age); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n\tdatabase %s pid %d xid %s %s for %s", datname.String, pid, xid.String, state.String, age.String)
	}
	return b.String()
}
