package dashboard

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xii/libs/deadline"
)

// pagingAggregator serves rows newest first in pages, with the cursor an
// offset, the way the aggregator pages; failAt makes the call with that
// offset fail.
type pagingAggregator struct {
	stubAggregator
	rows   []Response
	sync   SyncReport
	failAt int

	mu      sync.Mutex
	limits  []int
	filters []Filter
}

func (a *pagingAggregator) Responses(ctx context.Context, q Query) (Page, error) {
	a.mu.Lock()
	a.limits = append(a.limits, q.Limit)
	a.filters = append(a.filters, q.Filter)
	a.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		return Page{}, errors.New("no deadline")
	}
	off := 0
	if q.Cursor != "" {
		b, _ := base64.RawURLEncoding.DecodeString(q.Cursor)
		off, _ = strconv.Atoi(string(b))
	}
	if a.failAt > 0 && off == a.failAt {
		return Page{}, ErrUnavailable
	}
	end := min(off+q.Limit, len(a.rows))
	p := Page{Responses: a.rows[off:end], Sync: a.sync}
	if end < len(a.rows) {
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return p, nil
}

func exportRows(n int) []Response {
	rows := make([]Response, n)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range rows {
		rows[i] = Response{Provider: "blue", ProviderID: strconv.Itoa(n - i), Survey: "default", Device: "iOS", Location: "Germany",
			Text: fmt.Sprintf("r%d", i), CreatedAt: t0.Add(-time.Duration(i) * time.Second)}
	}
	return rows
}

func newExport(agg Aggregator, pageSize, maxRows int) http.Handler {
	e := MakeEndpoints(NewService(agg))
	return answerHeaders(csvExport{
		responses: deadline.Endpoint(e.Responses), timeouts: Deadlines{}.timeouts(),
		encodeError: errorEncoder(slog.New(slog.DiscardHandler)), logger: slog.New(slog.DiscardHandler),
		pageSize: pageSize, maxRows: maxRows,
	})
}

// TestCSVExportPages: the export pages through every row once, in order,
// with the first page's sync in the headers and the filter on every page.
func TestCSVExportPages(t *testing.T) {
	for _, tt := range []struct {
		name            string
		rows, max       int
		wantRows        int
		wantTruncated   string
		wantPageQueries int
	}{
		{"several pages", 23, 100, 23, "false", 3},
		{"exact pages", 20, 100, 20, "false", 2},
		{"empty", 0, 100, 0, "false", 1},
		{"at the maximum", 20, 20, 20, "false", 2},
		{"past the maximum", 23, 20, 20, "true", 3},
		{"past the maximum mid-page", 23, 15, 15, "true", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			agg := &pagingAggregator{rows: exportRows(tt.rows), sync: samplePage().Sync}
			srv := httptest.NewServer(newExport(agg, 10, tt.max))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/api/v1/responses.csv?device=iOS&timeout=1s")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			recs, err := csv.NewReader(resp.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Content-Type") != "text/csv; charset=utf-8" || h.Get(SyncCompleteHeader) != "false" ||
				h.Get(SyncMissingHeader) != "red" || h.Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d, headers %v", resp.StatusCode, h)
			}
			if got := resp.Trailer.Get(ExportTruncatedTrailer); got != tt.wantTruncated {
				t.Errorf("trailer %s = %q, want %q", ExportTruncatedTrailer, got, tt.wantTruncated)
			}
			if strings.Join(recs[0], ",") != strings.Join(csvColumns, ",") || len(recs)-1 != tt.wantRows {
				t.Fatalf("header %v and %d rows, want %d", recs[0], len(recs)-1, tt.wantRows)
			}
			for i, rec := range recs[1:] {
				if want := csvRecord(agg.rows[i]); strings.Join(rec, "\x00") != strings.Join(want, "\x00") {
					t.Fatalf("row %d = %q, want %q", i, rec, want)
				}
			}
			if len(agg.filters) != tt.wantPageQueries {
				t.Errorf("%d pages asked for, want %d", len(agg.filters), tt.wantPageQueries)
			}
			for _, f := range agg.filters {
				if f.Device != "iOS" {
					t.Errorf("a page was asked without the filter: %+v", f)
				}
			}
		})
	}
}

// TestCSVCells: quoting is CSV's, and a cell a spreadsheet would run as
// a formula is prefixed so that it is shown as text.
func TestCSVCells(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"plain":                "plain",
		`=HYPERLINK("x","y")`:  `'=HYPERLINK("x","y")`,
		"+1":                   "'+1",
		"-2+3":                 "'-2+3",
		"@SUM(A1)":             "'@SUM(A1)",
		"\tx":                  "'\tx",
		"\rx":                  "'\rx",
		"a=b":                  "a=b",
		"Zürich":               "Zürich",
		"'already":             "'already",
		"comma, \"quote\"\nnl": "comma, \"quote\"\nnl",
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
	agg := &pagingAggregator{rows: []Response{{Provider: "blue", ProviderID: "1", Text: "=1+1, \"two\"\nlines", Device: "-", Location: "@x",
		Answers: []byte(`{"q":"a,b"}`), CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)}}}
	a := serve(t, newExport(agg, 10, 100), "GET", "/api/v1/responses.csv", nil)
	want := "created_at,provider,provider_id,survey,device,location,text,answers\n" +
		"2026-01-02T03:04:05.0000006Z,blue,1,,'-,'@x,\"'=1+1, \"\"two\"\"\nlines\",\"{\"\"q\"\":\"\"a,b\"\"}\"\n"
	if string(a.body) != want {
		t.Errorf("body\n%s\nwant\n%s", a.body, want)
	}
}

// TestCSVExportFailures: before the first row a failure is a JSON error
// answer; after it the stream is broken, never ended as if whole.
func TestCSVExportFailures(t *testing.T) {
	t.Run("first page", func(t *testing.T) {
		a := serve(t, newExport(&pagingAggregator{rows: exportRows(5), failAt: -1}, 10, 100), "GET", "/api/v1/responses.csv?colour=red", nil)
		if a.status != 400 || !strings.Contains(string(a.body), `"code":"invalid_request"`) {
			t.Errorf("bad parameter: %d %s", a.status, a.body)
		}
		agg := &stubAggregator{err: ErrTimeout}
		a = serve(t, newExport(agg, 10, 100), "GET", "/api/v1/responses.csv", nil)
		if a.status != 504 || a.header.Get(SyncCompleteHeader) != "false" {
			t.Errorf("aggregator timeout: %d %v %s", a.status, a.header, a.body)
		}
	})
	t.Run("later page", func(t *testing.T) {
		agg := &pagingAggregator{rows: exportRows(25), failAt: 20}
		srv := httptest.NewServer(newExport(agg, 10, 100))
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/api/v1/responses.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("a failed export ended cleanly after %d lines", strings.Count(string(b), "\n"))
		}
		if n := strings.Count(string(b), "\n"); n != 21 {
			t.Errorf("%d lines before the break, want the header and 20 rows", n)
		}
	})
}
