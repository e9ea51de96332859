package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
)

// paths are page sizes that take each write path.
var paths = []struct {
	name string
	size int
}{
	{"values", 10},
	{"unnest", copyThreshold + 50},
}

func TestApplyPageRoundTrip(t *testing.T) {
	t.Parallel()
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			recs := records(0, path.size)
			a := apply(t, s, "blue", "", aggregate.Page{Records: recs, Next: "c1"})
			if want := (Applied{Upserted: path.size, Inserted: path.size}); a != want {
				t.Errorf("applied = %+v, want %+v", a, want)
			}
			if c := cursorOf(t, s, "blue"); c != "c1" {
				t.Errorf("cursor = %q, want c1", c)
			}
			got := stored(t, s, "blue")
			if len(got) != len(recs) {
				t.Fatalf("stored %d responses, want %d", len(got), len(recs))
			}
			for _, r := range recs {
				if want := response("blue", r); !sameResponse(got[r.ProviderID], want) {
					t.Errorf("stored %+v\nwant %+v", got[r.ProviderID], want)
				}
			}
			if c := cursorOf(t, s, "red"); c != "" {
				t.Errorf("cursor of a provider never synced = %q, want empty", c)
			}
		})
	}
}

// Text that COPY's text format must escape, and JSON that jsonb rewrites.
func TestApplyPageAwkwardValues(t *testing.T) {
	t.Parallel()
	awkward := []string{
		"tab\there", "new\nline", "carriage\rreturn", `back\slash`, `\N`, `\.`,
		"'; DROP TABLE responses; --", `"quoted"`, "日本語 🙂", " ", "",
	}
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			recs := records(0, path.size)
			for i := range recs {
				v := awkward[i%len(awkward)]
				recs[i].Text, recs[i].Survey, recs[i].Location = v, v, v
				recs[i].ProviderID += v
				recs[i].Answers = json.RawMessage(fmt.Sprintf(`{"a":%q,"n":[1,2.5,null],"o":{}}`, v))
			}
			recs[0].CreatedAt = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.FixedZone("x", 5*3600+1800))
			apply(t, s, "blue", "", aggregate.Page{Records: recs, Next: "c1"})
			got := stored(t, s, "blue")
			for _, r := range recs {
				if want := response("blue", r); !sameResponse(got[r.ProviderID], want) {
					t.Errorf("stored %+v\nwant %+v", got[r.ProviderID], want)
				}
			}
		})
	}
}

func TestApplyPageIdempotent(t *testing.T) {
	t.Parallel()
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			recs := records(0, path.size)
			apply(t, s, "blue", "", aggregate.Page{Records: recs, Next: "c1"})

			// The same content again, as after a rescan: nothing changes.
			a := apply(t, s, "blue", "c1", aggregate.Page{Records: recs, Next: "c2"})
			if a != (Applied{}) {
				t.Errorf("reapplied: %+v, want nothing written", a)
			}
			if n := countRows(t, s, "blue"); n != path.size {
				t.Errorf("%d rows after reapplying, want %d", n, path.size)
			}

			// Two records changed, two new, the rest the same.
			changed := append(records(0, path.size), records(path.size, path.size+2)...)
			changed[0].Text = "edited"
			changed[1].Answers = json.RawMessage(`{"q1": "edited"}`)
			a = apply(t, s, "blue", "c2", aggregate.Page{Records: changed, Next: "c3"})
			if want := (Applied{Upserted: 4, Inserted: 2, Updated: 2}); a != want {
				t.Errorf("applied = %+v, want %+v", a, want)
			}
			got := stored(t, s, "blue")
			if len(got) != path.size+2 {
				t.Fatalf("stored %d responses, want %d", len(got), path.size+2)
			}
			for _, r := range changed {
				if want := response("blue", r); !sameResponse(got[r.ProviderID], want) {
					t.Errorf("stored %+v\nwant %+v", got[r.ProviderID], want)
				}
			}
			if c := cursorOf(t, s, "blue"); c != "c3" {
				t.Errorf("cursor = %q, want c3", c)
			}
		})
	}
}

func TestApplyPageDuplicateIDs(t *testing.T) {
	t.Parallel()
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			recs := records(0, path.size)
			last := records(0, 3)
			for i := range last {
				last[i].Text = "last"
			}
			// Every id of the page once, then three of them again, then
			// the first of those a third time.
			page := append(append(recs, last...), last[0])
			a := apply(t, s, "blue", "", aggregate.Page{Records: page, Next: "c1"})
			if want := (Applied{Upserted: path.size, Inserted: path.size}); a != want {
				t.Errorf("applied = %+v, want %+v", a, want)
			}
			got := stored(t, s, "blue")
			if len(got) != path.size {
				t.Fatalf("stored %d responses, want %d", len(got), path.size)
			}
			for _, r := range last {
				if got[r.ProviderID].Text != "last" {
					t.Errorf("%s: text %q, want the last occurrence's", r.ProviderID, got[r.ProviderID].Text)
				}
			}
		})
	}
}

// The COPY path at a provider's full page size, and providers kept apart.
func TestApplyPageLargePage(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	const n = 5000
	for _, p := range []string{"blue", "red"} {
		a := apply(t, s, p, "", aggregate.Page{Records: records(0, n), Next: "c1"})
		if want := (Applied{Upserted: n, Inserted: n}); a != want {
			t.Errorf("%s: applied = %+v, want %+v", p, a, want)
		}
	}
	a := apply(t, s, "blue", "c1", aggregate.Page{Records: records(0, n), Next: "c2"})
	if a != (Applied{}) {
		t.Errorf("reapplied: %+v, want nothing written", a)
	}
	for _, p := range []string{"blue", "red"} {
		if got := countRows(t, s, p); got != n {
			t.Errorf("%s: %d rows, want %d", p, got, n)
		}
	}
	got := stored(t, s, "red")
	for _, i := range []int{0, 1, n / 2, n - 1} {
		r := record(i)
		if want := response("red", r); !sameResponse(got[r.ProviderID], want) {
			t.Errorf("stored %+v\nwant %+v", got[r.ProviderID], want)
		}
	}
}

// TestApplyPageLargeNewThenMixed follows a provider's large pages from all
// new (a plain INSERT) to one with records already stored (the INSERT
// fails and is rolled back, the page upserted) and back: each page stored
// whole and counted right, the rollup in step, and the provider upserted
// only until a page is all new again.
func TestApplyPageLargeNewThenMixed(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	n := copyThreshold + 50
	mixed := func() bool { _, ok := s.mixed.Load("blue"); return ok }
	steps := []struct {
		page      []aggregate.Record
		want      Applied
		wantMixed bool
	}{
		{records(0, n), Applied{Upserted: n, Inserted: n}, false},
		{records(n/2, n+n/2), Applied{Upserted: n / 2, Inserted: n / 2}, true},
		{records(n+n/2, 2*n+n/2), Applied{Upserted: n, Inserted: n}, false},
	}
	from := ""
	for i, st := range steps {
		next := fmt.Sprintf("c%d", i+1)
		if a := apply(t, s, "blue", from, aggregate.Page{Records: st.page, Next: next}); a != st.want {
			t.Errorf("page %d: applied = %+v, want %+v", i, a, st.want)
		}
		if mixed() != st.wantMixed {
			t.Errorf("page %d: provider remembered as mixed = %v, want %v", i, mixed(), st.wantMixed)
		}
		from = next
	}
	if got, want := countRows(t, s, "blue"), 2*n+n/2; got != want {
		t.Errorf("%d rows, want %d", got, want)
	}
	checkRollup(t, s, time.Now(), "after the mixed page")
}

func TestApplyPageEmptyPageMovesCursor(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	if a := apply(t, s, "blue", "", aggregate.Page{Next: "c1"}); a != (Applied{}) {
		t.Errorf("applied = %+v, want nothing", a)
	}
	if c := cursorOf(t, s, "blue"); c != "c1" {
		t.Errorf("cursor = %q, want c1", c)
	}
}

func TestApplyPageConflict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup []string // cursors applied in turn before the stale page
		from  string
	}{
		{"never synced, from a cursor", nil, "c1"},
		{"stale cursor", []string{"c1", "c2"}, "c1"},
		{"start over after syncing", []string{"c1"}, ""},
		{"cursor from the future", []string{"c1"}, "c9"},
	}
	for _, tt := range tests {
		for _, path := range paths {
			t.Run(tt.name+"/"+path.name, func(t *testing.T) {
				t.Parallel()
				s := openStore(t)
				from := ""
				for _, c := range tt.setup {
					apply(t, s, "blue", from, aggregate.Page{Records: records(0, 2), Next: c})
					from = c
				}
				before := countRows(t, s, "")

				_, err := s.ApplyPage(t.Context(), "blue", tt.from, aggregate.Page{Records: records(100, 100+path.size), Next: "stale"})
				if !errors.Is(err, aggregate.ErrConflict) {
					t.Fatalf("err = %v, want ErrConflict", err)
				}
				if n := countRows(t, s, ""); n != before {
					t.Errorf("%d rows after a conflict, want %d", n, before)
				}
				if c := cursorOf(t, s, "blue"); c != from {
					t.Errorf("cursor = %q, want %q", c, from)
				}
				var cursors int
				if err := s.db.QueryRowContext(t.Context(), "SELECT count(*) FROM provider_cursors").Scan(&cursors); err != nil {
					t.Fatal(err)
				}
				if want := min(len(tt.setup), 1); cursors != want {
					t.Errorf("%d cursor rows, want %d", cursors, want)
				}
			})
		}
	}
}

func TestApplyPageInvalid(t *testing.T) {
	t.Parallel()
	valid := record(0)
	with := func(f func(r *aggregate.Record)) aggregate.Page {
		r := valid
		f(&r)
		return aggregate.Page{Records: []aggregate.Record{record(1), r}, Next: "c2"}
	}
	tests := []struct {
		name     string
		provider string
		page     aggregate.Page
	}{
		{"empty provider", "", aggregate.Page{Records: []aggregate.Record{valid}, Next: "c2"}},
		{"provider not UTF-8", "bl\xffue", aggregate.Page{Next: "c2"}},
		{"cursor with NUL", "blue", aggregate.Page{Next: "c\x002"}},
		{"empty provider id", "blue", with(func(r *aggregate.Record) { r.ProviderID = "" })},
		{"text not UTF-8", "blue", with(func(r *aggregate.Record) { r.Text = "\xc3\x28" })},
		{"device with NUL", "blue", with(func(r *aggregate.Record) { r.Device = "i\x00OS" })},
		{"no created_at", "blue", with(func(r *aggregate.Record) { r.CreatedAt = time.Time{} })},
		{"answers not JSON", "blue", with(func(r *aggregate.Record) { r.Answers = json.RawMessage(`{"a":`) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			p := setupProvider(tt.provider, "blue")
			apply(t, s, p, "", aggregate.Page{Records: records(10, 12), Next: "c1"})

			_, err := s.ApplyPage(t.Context(), tt.provider, "c1", tt.page)
			if !errors.Is(err, aggregate.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if n := countRows(t, s, ""); n != 2 {
				t.Errorf("%d rows, want 2", n)
			}
			if c := cursorOf(t, s, p); c != "c1" {
				t.Errorf("cursor = %q, want c1", c)
			}
		})
	}
}

// setupProvider returns p, or otherwise when p cannot apply a page.
func setupProvider(p, otherwise string) string {
	if p == "" || !validText(p) {
		return otherwise
	}
	return p
}

// An interruption just before COMMIT, by an error or by the caller giving
// up, leaves rows and cursor as they were.
func TestApplyPageInterruptedBeforeCommit(t *testing.T) {
	t.Parallel()
	errInjected := errors.New("injected")
	tests := []struct {
		name string
		hook func(cancel context.CancelFunc) error
		want error
	}{
		{"hook error", func(context.CancelFunc) error { return errInjected }, errInjected},
		{"context cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }, context.Canceled},
	}
	for _, tt := range tests {
		for _, path := range paths {
			t.Run(tt.name+"/"+path.name, func(t *testing.T) {
				t.Parallel()
				var (
					cancel context.CancelFunc
					calls  int
				)
				s := openStore(t, WithHooks(Hooks{BeforeCommit: func(ctx context.Context, p string) error {
					calls++
					if p != "blue" || calls != 2 {
						return nil // let the setup page through
					}
					return tt.hook(cancel)
				}}))
				apply(t, s, "blue", "", aggregate.Page{Records: records(0, 2), Next: "c1"})

				var ctx context.Context
				ctx, cancel = context.WithCancel(t.Context())
				defer cancel()
				// Records 0 and 1 again, changed, and new ones.
				recs := records(0, path.size)
				recs[0].Text = "changed"
				_, err := s.ApplyPage(ctx, "blue", "c1", aggregate.Page{Records: recs, Next: "c2"})
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if calls != 2 {
					t.Fatalf("hook called %d times, want 2", calls)
				}
				if c := cursorOf(t, s, "blue"); c != "c1" {
					t.Errorf("cursor = %q, want c1", c)
				}
				got := stored(t, s, "blue")
				if len(got) != 2 || got[recs[0].ProviderID].Text != record(0).Text {
					t.Errorf("stored %d rows (want 2), record 0 text %q (want unchanged)", len(got), got[recs[0].ProviderID].Text)
				}

				// The retry from the same cursor applies the page.
				apply(t, s, "blue", "c1", aggregate.Page{Records: recs, Next: "c2"})
				if n := countRows(t, s, "blue"); n != path.size {
					t.Errorf("%d rows after retry, want %d", n, path.size)
				}
			})
		}
	}
}

func TestApplyPageErrorsNameProvider(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	_, err := s.ApplyPage(t.Context(), "blue", "nope", aggregate.Page{Next: "c1"})
	if err == nil || !strings.Contains(err.Error(), `"blue"`) {
		t.Errorf("err = %v, want it to name the provider", err)
	}
}
