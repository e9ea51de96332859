package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"xii/aggregator-svc/aggregate"
)

// quarantinedIn returns the provider's quarantined ids with their reasons.
func quarantinedIn(tb testing.TB, s *Store, p string) map[string]string {
	tb.Helper()
	rows, err := s.db.QueryContext(tb.Context(), `SELECT provider_id, reason FROM quarantined_records WHERE provider = $1`, p)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, reason string
		if err := rows.Scan(&id, &reason); err != nil {
			tb.Fatal(err)
		}
		out[id] = reason
	}
	return out
}

// TestQuarantineWithThePage: a bad record is set aside in its page's
// transaction while the page's good records are stored and the cursor
// moves; the record sent again valid is stored and leaves quarantine.
func TestQuarantineWithThePage(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	bad := record(2)
	bad.Device = strings.Repeat("d", aggregate.MaxDeviceLen+36) // 100 characters
	page := aggregate.Page{Records: []aggregate.Record{record(1), bad, record(3)}, Next: "c1"}.Quarantine()
	a := apply(t, s, "blue", "", page)
	if a.Inserted != 2 || a.Quarantined != 1 {
		t.Fatalf("applied %+v, want 2 stored and 1 quarantined", a)
	}
	if got := quarantinedIn(t, s, "blue"); len(got) != 1 || !strings.Contains(got[bad.ProviderID], "device: longer than") {
		t.Fatalf("quarantined %v, want %s with its reason", got, bad.ProviderID)
	}
	if pos, err := s.Position(t.Context(), "blue"); err != nil || pos != (aggregate.Position{Cursor: "c1", Quarantined: 1}) {
		t.Fatalf("position %+v, %v; want c1 with 1 quarantined", pos, err)
	}
	if n := countRows(t, s, "blue"); n != 2 {
		t.Fatalf("%d rows stored, want the 2 good ones", n)
	}

	fixed := record(2)
	a = apply(t, s, "blue", "c1", aggregate.Page{Records: []aggregate.Record{fixed}, Next: "c2"}.Quarantine())
	if a.Inserted != 1 || a.Quarantined != 0 {
		t.Fatalf("applied %+v, want the fixed record stored and quarantine empty", a)
	}
	if got := quarantinedIn(t, s, "blue"); len(got) != 0 {
		t.Fatalf("still quarantined after the fix: %v", got)
	}
	if pos, _ := s.Position(t.Context(), "blue"); pos.Quarantined != 0 {
		t.Fatalf("position %+v, want none quarantined", pos)
	}
}

// TestQuarantineCommitsWithThePage: when the page's transaction fails,
// nothing of it is quarantined either, and the cursor stays.
func TestQuarantineCommitsWithThePage(t *testing.T) {
	t.Parallel()
	boom := errors.New("crash before commit")
	s := openStore(t, WithHooks(Hooks{BeforeCommit: func(context.Context, string) error { return boom }}))
	bad := record(2)
	bad.Survey = ""
	page := aggregate.Page{Records: []aggregate.Record{record(1), bad}, Next: "c1"}.Quarantine()
	if _, err := s.ApplyPage(t.Context(), "blue", "", page); !errors.Is(err, boom) {
		t.Fatalf("ApplyPage = %v, want the hook's error", err)
	}
	if got := quarantinedIn(t, s, "blue"); len(got) != 0 {
		t.Fatalf("quarantined %v although the page was rolled back", got)
	}
	if c := cursorOf(t, s, "blue"); c != "" {
		t.Fatalf("cursor %q, want none", c)
	}
}
