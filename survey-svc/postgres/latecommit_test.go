package postgres

import (
	"database/sql"
	"maps"
	"slices"
	"testing"

	"xii/survey-svc/survey"
	"xii/testkit/pgtest"
	"xii/testkit/wait"
)

// TestExportLateCommit is the scenario survey.Cursor exists for: A inserts
// first (lower id, lower xid) but commits after B, and after an export has
// already seen B. The cursor must still deliver A; the naive "id > last id"
// exporter, run on the same table, must miss it, or this test could not
// catch the bug it is about.
func TestExportLateCommit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		commitA bool
	}{
		{"A commits late", true},
		{"A rolls back late", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			naive := &naiveExporter{db: s.db}
			ctx := t.Context()

			txA, posA := heldInsert(t, s.db, response(1))
			defer txA.Rollback() // no-op once committed
			b, err := s.Create(ctx, response(2))
			if err != nil {
				t.Fatal(err)
			}
			if b.ID <= posA.ID {
				t.Fatalf("B's id %d is not after A's %d", b.ID, posA.ID)
			}

			// While A is open the export sees only B, and B is not final.
			first := sweep(t, s, survey.Cursor{}, 10, survey.Filter{})
			if got := ids(first...); !slices.Equal(got, []int64{b.ID}) {
				t.Fatalf("export while A is open: ids %v, want [%d]", got, b.ID)
			}
			next := first[len(first)-1].Next
			if !next.Stable.Less(posA) {
				t.Errorf("cursor %#v passed A at %d/%d while A was open", next, posA.XID, posA.ID)
			}
			if got, err := naive.page(ctx, 10); err != nil || !slices.Equal(got, []int64{b.ID}) {
				t.Fatalf("naive export while A is open: %v, %v; want [%d]", got, err, b.ID)
			}

			if tc.commitA {
				err = txA.Commit()
			} else {
				err = txA.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}

			second := sweep(t, s, next, 10, survey.Filter{})
			seen := map[int64]bool{}
			for _, id := range ids(append(first, second...)...) {
				seen[id] = true
			}
			want := map[int64]bool{b.ID: true}
			if tc.commitA {
				want[posA.ID] = true
			}
			if !maps.Equal(seen, want) {
				t.Errorf("exported ids %v, want %v", slices.Sorted(maps.Keys(seen)), slices.Sorted(maps.Keys(want)))
			}

			naiveSecond, err := naive.page(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if tc.commitA && slices.Contains(naiveSecond, posA.ID) {
				t.Errorf("the naive exporter found A (%v): this test cannot tell a skipping cursor from a correct one", naiveSecond)
			}
		})
	}
}

// TestStableNeverPassesAnOpenTransaction keeps one transaction open amid
// committed rows and pages through them repeatedly: Stable must stay before
// the open row, and pass it once it commits.
func TestStableNeverPassesAnOpenTransaction(t *testing.T) {
	s := openStore(t)
	create(t, s, 5, response)
	tx, open := heldInsert(t, s.db, response(100))
	defer tx.Rollback()
	after := create(t, s, 20, response)

	cur := survey.Cursor{}
	for range 3 { // sweep, rewind, sweep again
		for _, p := range sweep(t, s, cur, 3, survey.Filter{}) {
			if !p.Next.Stable.Less(open) {
				t.Fatalf("cursor %#v passed the open row at %d/%d", p.Next, open.XID, open.ID)
			}
			for _, r := range p.Responses {
				if r.ID == open.ID {
					t.Fatal("exported a row of an open transaction")
				}
			}
			cur = p.Next
		}
	}

	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Stable passes the row once no transaction that was running when it
	// committed is left; transactions of other databases on the server
	// count too, so wait for it rather than expect it at once.
	var got []int64
	wait.For(t, "the cursor to pass the committed row", func() bool {
		pages := sweep(t, s, cur, 3, survey.Filter{})
		got = append(got, ids(pages...)...)
		cur = pages[len(pages)-1].Next
		return !cur.Stable.Less(open)
	}, wait.Explain(func() string { return "open transactions on the server: " + openTransactions(t, s.db) }))
	for _, id := range append(after, open.ID) {
		if !slices.Contains(got, id) {
			t.Errorf("id %d not exported after the commit", id)
		}
	}
}

// TestHorizonIsServerWide documents a property of the horizon: transaction
// ids are shared by every database on the server, so a writing transaction
// open in another database keeps this one's new rows from becoming final.
// Nothing is lost, but Stable stalls and rows are exported again until that
// transaction ends.
func TestHorizonIsServerWide(t *testing.T) {
	s := openStore(t)
	other, err := sql.Open("postgres", pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(t.Context(), "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}

	create(t, s, 3, response)
	pages := sweep(t, s, survey.Cursor{}, 10, survey.Filter{})
	if p := pages[len(pages)-1]; len(ids(pages...)) != 3 || p.Next != (survey.Cursor{}) {
		t.Errorf("export with a transaction open elsewhere: ids %v, next %#v; want 3 ids and the zero cursor",
			ids(pages...), p.Next)
	}
}
