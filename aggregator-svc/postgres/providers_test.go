package postgres

import (
	"errors"
	"slices"
	"testing"

	"xii/aggregator-svc/aggregate"
)

func known(t *testing.T, s *Store) []aggregate.KnownProvider {
	t.Helper()
	ks, err := s.KnownProviders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestKnownProviders: synced and remembered providers are known, with the
// descriptor last remembered; remembering again takes back a retirement.
func TestKnownProviders(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := t.Context()
	apply(t, s, "synced", "", aggregate.Page{Records: records(0, 3), Next: "c1"})
	if err := s.RememberProvider(ctx, "configured", `{"url":"http://a"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberProvider(ctx, "configured", `{"url":"http://b"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberProvider(ctx, "bad", "\xff"); err != nil {
		t.Fatal(err)
	}
	want := []aggregate.KnownProvider{{Name: "bad"}, {Name: "configured", Descriptor: `{"url":"http://b"}`}, {Name: "synced"}}
	if got := known(t, s); !slices.Equal(got, want) {
		t.Fatalf("known %+v, want %+v", got, want)
	}

	if err := s.RetireProvider(ctx, "configured", false); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberProvider(ctx, "configured", `{"url":"http://b"}`); err != nil {
		t.Fatal(err)
	}
	if got := known(t, s); got[1].Retired {
		t.Fatalf("remembered again, still retired: %+v", got)
	}
	if err := s.RememberProvider(ctx, "", "x"); !errors.Is(err, aggregate.ErrInvalid) {
		t.Errorf("empty name: %v, want ErrInvalid", err)
	}
}

// TestRetireProvider: keeping rows keeps the cursor; deleting rows resets
// it; either way no page of the provider is stored after, not even by a
// round that read the cursor before the retirement.
func TestRetireProvider(t *testing.T) {
	t.Parallel()
	for _, drop := range []bool{false, true} {
		s := openStore(t)
		ctx := t.Context()
		apply(t, s, "p", "", aggregate.Page{Records: records(0, 5), Next: "c1"})
		apply(t, s, "other", "", aggregate.Page{Records: records(0, 2), Next: "o1"})
		if err := s.RetireProvider(ctx, "p", drop); err != nil {
			t.Fatal(err)
		}
		if err := s.RetireProvider(ctx, "p", drop); err != nil {
			t.Fatalf("retire twice: %v", err)
		}
		wantRows, wantCursor := 5, "c1"
		if drop {
			wantRows, wantCursor = 0, ""
		}
		if n := countRows(t, s, "p"); n != wantRows {
			t.Errorf("drop=%v: %d rows left, want %d", drop, n, wantRows)
		}
		if c := cursorOf(t, s, "p"); c != wantCursor {
			t.Errorf("drop=%v: cursor %q, want %q", drop, c, wantCursor)
		}
		if n := countRows(t, s, "other"); n != 2 {
			t.Errorf("drop=%v: other provider has %d rows, want 2", drop, n)
		}
		for _, from := range []string{"", "c1"} {
			_, err := s.ApplyPage(ctx, "p", from, aggregate.Page{Records: records(10, 12), Next: "c2"})
			if !errors.Is(err, aggregate.ErrRetired) {
				t.Errorf("drop=%v: apply after retirement from %q: %v, want ErrRetired", drop, from, err)
			}
		}
		if n := countRows(t, s, "p"); n != wantRows {
			t.Errorf("drop=%v: %d rows after a refused page, want %d", drop, n, wantRows)
		}
		if ks := known(t, s); !slices.ContainsFunc(ks, func(k aggregate.KnownProvider) bool { return k.Name == "p" && k.Retired }) {
			t.Errorf("drop=%v: known %+v, want p retired", drop, ks)
		}
	}
}
