package postgres

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
)

// planNode is the part of EXPLAIN (FORMAT JSON) the test reads.
type planNode struct {
	NodeType        string     `json:"Node Type"`
	RelationName    string     `json:"Relation Name"`
	IndexName       string     `json:"Index Name"`
	IndexCond       string     `json:"Index Cond"`
	Filter          string     `json:"Filter"`
	ActualRows      float64    `json:"Actual Rows"`
	SharedHit       float64    `json:"Shared Hit Blocks"`
	SharedRead      float64    `json:"Shared Read Blocks"`
	RemovedByFilter float64    `json:"Rows Removed by Filter"`
	Plans           []planNode `json:"Plans"`
}

func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}

// The common dashboard filters read a page with one index range scan and
// no Sort, on the first page and deep into the results: the scan returns at
// most the page and one more row and discards none.
func TestQueryPlansUseIndexes(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	// Four providers of 5000 rows each, and one of 100: only a filter that
	// selects few rows needs an index of its own.
	for i := range 100 {
		r := bulkRecord(20000 + i)
		apply(t, s, "tiny", cursorOf(t, s, "tiny"), aggregate.Page{Records: []aggregate.Record{r}, Next: r.ProviderID})
	}
	seedBulk(t, s, 20000, 1000)

	const limit = 50
	tests := []struct {
		name   string
		filter aggregate.Filter
		index  string
	}{
		{"iOS in Germany", aggregate.Filter{Device: "iOS", Location: "Germany"}, "responses_device_loc"},
		{"no filter", aggregate.Filter{}, "responses_recent"},
		{"Germany", aggregate.Filter{Location: "Germany"}, "responses_location"},
		{"survey", aggregate.Filter{Survey: "survey-07"}, "responses_survey"},
		{"small provider", aggregate.Filter{Provider: "tiny"}, "responses_provider"},
		{"iOS in Germany this week", aggregate.Filter{Device: "iOS", Location: "Germany",
			Since: t0.Add(-7 * 24 * time.Hour), Until: t0}, "responses_device_loc"},
	}
	for _, tt := range tests {
		// A key about a third of the way down the matching rows.
		deep, err := s.Query(t.Context(), aggregate.Query{Filter: tt.filter, Limit: aggregate.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(deep.Responses) < 2*limit {
			t.Fatalf("%s: only %d rows match", tt.name, len(deep.Responses))
		}
		k := keyOf(deep.Responses[len(deep.Responses)/3])
		for _, after := range []*aggregate.Key{nil, &k} {
			name := tt.name + "/first page"
			if after != nil {
				name = tt.name + "/deep page"
			}
			t.Run(name, func(t *testing.T) {
				query, args := pageQuery(aggregate.Query{Filter: tt.filter, Limit: limit, After: after})
				var out []byte
				if err := s.db.QueryRowContext(t.Context(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+query, args...).Scan(&out); err != nil {
					t.Fatalf("explain: %v", err)
				}
				var plans []struct {
					Plan planNode `json:"Plan"`
				}
				if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
					t.Fatalf("explain output %s: %v", out, err)
				}
				var (
					scans []planNode
					kinds []string
				)
				plans[0].Plan.walk(func(n planNode) {
					kinds = append(kinds, n.NodeType)
					if strings.Contains(n.NodeType, "Sort") {
						t.Errorf("plan sorts: %s", out)
					}
					if n.RelationName == "responses" {
						scans = append(scans, n)
					}
				})
				if len(scans) != 1 || !strings.HasPrefix(scans[0].NodeType, "Index") {
					t.Fatalf("plan %v reads responses by %d scans, want one index scan: %s", kinds, len(scans), out)
				}
				scan := scans[0]
				t.Logf("%v using %s; index cond %s; filter %q; rows %v; buffers %v", kinds, scan.IndexName, scan.IndexCond, scan.Filter, scan.ActualRows, scan.SharedHit+scan.SharedRead)
				if scan.IndexName != tt.index {
					t.Errorf("index %s, want %s", scan.IndexName, tt.index)
				}
				if scan.ActualRows > limit+1 || scan.RemovedByFilter > 0 {
					t.Errorf("scan returned %v rows and discarded %v for a page of %d", scan.ActualRows, scan.RemovedByFilter, limit)
				}
			})
		}
	}
}
