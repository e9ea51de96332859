package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"xii/survey-svc/survey"
)

func TestExportPages(t *testing.T) {
	s := openStore(t)
	const rows = 10
	want := create(t, s, rows, response)

	for _, limit := range []int{1, 3, 5, 9, 10, 11, survey.MaxExportLimit} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			// One sweep visits every row once, in order, whatever other
			// transactions on the server do.
			pages := sweep(t, s, survey.Cursor{}, limit, survey.Filter{})
			if got := ids(pages...); !slices.Equal(got, want) {
				t.Errorf("ids = %v, want %v", got, want)
			}
			if got, want := len(pages), max(1, (rows+limit-1)/limit); got != want {
				t.Errorf("%d pages, want %d", got, want)
			}
			for i, p := range pages {
				last := i == len(pages)-1
				if p.HasMore == last {
					t.Errorf("page %d of %d: HasMore = %v", i+1, len(pages), p.HasMore)
				}
				if !last && len(p.Responses) != limit {
					t.Errorf("page %d: %d responses, want %d", i+1, len(p.Responses), limit)
				}
			}
		})
	}
}

func TestExportEmptyPageRewinds(t *testing.T) {
	s := openStore(t)
	for _, tc := range []struct {
		name  string
		after survey.Cursor
	}{
		{"zero", survey.Cursor{}},
		{"settled", survey.Cursor{Scan: survey.Position{XID: 1 << 40, ID: 9}, Stable: survey.Position{XID: 1 << 40, ID: 9}}},
		{"frozen", survey.Cursor{Scan: survey.Position{XID: 1 << 40, ID: 9}, Stable: survey.Position{XID: 5, ID: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Export(t.Context(), survey.ExportQuery{After: tc.after, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Responses) != 0 || p.HasMore || p.Next != tc.after.Rewind() {
				t.Errorf("page = %d responses, HasMore %v, Next %#v; want none, false, %#v",
					len(p.Responses), p.HasMore, p.Next, tc.after.Rewind())
			}
		})
	}
}

func TestExportLimitOutOfRange(t *testing.T) {
	s := openStore(t)
	for _, limit := range []int{-1, 0, survey.MaxExportLimit + 1} {
		_, err := s.Export(t.Context(), survey.ExportQuery{Limit: limit})
		if !errors.Is(err, survey.ErrInvalid) {
			t.Errorf("limit %d: %v, want an error wrapping survey.ErrInvalid", limit, err)
		}
	}
}

func TestExportFilters(t *testing.T) {
	s := openStore(t)
	// Every combination of two surveys, devices and locations, three times.
	var all []survey.NewResponse
	for i := range 24 {
		all = append(all, survey.NewResponse{
			Survey:   []string{"nps", "csat"}[i%2],
			Text:     fmt.Sprint("response ", i),
			Device:   []string{"iOS", "Android"}[i/2%2],
			Location: []string{"Germany", "France"}[i/4%2],
		})
	}
	created := create(t, s, len(all), func(i int) survey.NewResponse { return all[i] })

	for _, f := range append(filters("csat", "iOS", "France"),
		survey.Filter{Device: "web"},
		survey.Filter{Survey: "nps", Device: "iOS", Location: "Spain"},
	) {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			var want []int64
			for i, r := range all {
				if (f.Survey == "" || r.Survey == f.Survey) && (f.Device == "" || r.Device == f.Device) &&
					(f.Location == "" || r.Location == f.Location) {
					want = append(want, created[i])
				}
			}
			pages := sweep(t, s, survey.Cursor{}, 2, f)
			if got := ids(pages...); !slices.Equal(got, want) {
				t.Errorf("ids = %v, want %v", got, want)
			}
		})
	}
}

// filters returns the eight filters that use any subset of the values.
func filters(surveyName, device, location string) []survey.Filter {
	var out []survey.Filter
	for bits := range 8 {
		var f survey.Filter
		if bits&1 != 0 {
			f.Survey = surveyName
		}
		if bits&2 != 0 {
			f.Device = device
		}
		if bits&4 != 0 {
			f.Location = location
		}
		out = append(out, f)
	}
	return out
}

// TestExportOrdersByXIDNumerically plants rows with chosen xids whose
// decimal text sorts differently from their value.
func TestExportOrdersByXIDNumerically(t *testing.T) {
	s := openStore(t)
	var want []int64
	byXID := map[string][]int64{}
	for _, xid := range []string{"100", "10", "9", "10", "1000000000000"} {
		var id int64
		err := s.db.QueryRowContext(t.Context(),
			`INSERT INTO responses (xid, survey, text, device, location) VALUES ($1::xid8, 's', 't', 'd', 'l') RETURNING id`,
			xid).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		byXID[xid] = append(byXID[xid], id)
	}
	for _, xid := range []string{"9", "10", "100", "1000000000000"} {
		want = append(want, byXID[xid]...)
	}
	if got := ids(sweep(t, s, survey.Cursor{}, 2, survey.Filter{})...); !slices.Equal(got, want) {
		t.Errorf("ids = %v, want %v (xid order, then id)", got, want)
	}
}

// TestExportSeeksAnIndex checks with EXPLAIN that every filter combination
// seeks its own index with the equalities and the (xid, id) bound, so that a
// page costs the rows it returns, not the rows it skips.
func TestExportSeeksAnIndex(t *testing.T) {
	s := openStore(t)
	// Filters match a small fraction of the rows: when a filter matches many,
	// reading (xid, id) and discarding the others is cheap too, and the
	// planner may rightly prefer it.
	const n = 50000
	seed(t, s.db, n, 4, 200)
	var mid survey.Position
	var xid string
	if err := s.db.QueryRowContext(t.Context(),
		"SELECT xid::text AS x, id FROM responses ORDER BY responses.xid, id OFFSET $1 LIMIT 1", n/2).Scan(&xid, &mid.ID); err != nil {
		t.Fatal(err)
	}
	fmt.Sscan(xid, &mid.XID)

	for _, f := range filters("s-rare", "d-rare", "l-rare") {
		index := "responses_export"
		if f != (survey.Filter{}) {
			index += "_"
		}
		var conds []string
		for _, c := range []struct{ letter, column, value string }{
			{"s", "survey", f.Survey}, {"d", "device", f.Device}, {"l", "location", f.Location},
		} {
			if c.value != "" {
				index += c.letter
				conds = append(conds, fmt.Sprintf("(%s = '%s'::text)", c.column, c.value))
			}
		}
		conds = append(conds, "(ROW(xid, id) > ROW(")

		for _, scan := range []survey.Position{{}, mid} {
			t.Run(fmt.Sprintf("%+v after %d", f, scan.ID), func(t *testing.T) {
				query, args := exportQuery(scan, 101, f)
				var out []byte
				if err := s.db.QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&out); err != nil {
					t.Fatal(err)
				}
				var plans []struct{ Plan planNode }
				if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
					t.Fatalf("parse plan %s: %v", out, err)
				}
				var scans []planNode
				sorted := false
				plans[0].Plan.walk(func(n planNode) {
					sorted = sorted || strings.Contains(n.NodeType, "Sort")
					if n.IndexName != "" {
						scans = append(scans, n)
					}
				})
				// A sort is fine only above a bitmap scan, which the planner
				// picks when it expects few more matches than the page holds;
				// then an index with one more equality column after the
				// filter's (s-rare, d-rare on _sdl) seeks as well, and the
				// planner's choice between the two follows ANALYZE's sample.
				bitmap := len(scans) == 1 && scans[0].NodeType == "Bitmap Index Scan"
				ok := len(scans) == 1 && (scans[0].IndexName == index ||
					bitmap && f != (survey.Filter{}) && strings.HasPrefix(scans[0].IndexName, index))
				if !ok || !(scans[0].NodeType == "Index Scan" && !sorted || bitmap) {
					t.Fatalf("plan does not seek %s:\n%s", index, out)
				}
				t.Logf("%s on %s", scans[0].NodeType, index)
				for _, c := range conds {
					if !strings.Contains(scans[0].IndexCond, c) {
						t.Errorf("index condition %q lacks %q", scans[0].IndexCond, c)
					}
				}
			})
		}
	}
}

// planNode is the part of EXPLAIN (FORMAT JSON) output the tests read.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Plans     []planNode `json:"Plans"`
}

func (n planNode) walk(visit func(planNode)) {
	visit(n)
	for _, c := range n.Plans {
		c.walk(visit)
	}
}
