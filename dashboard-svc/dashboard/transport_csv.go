package dashboard

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"

	"xii/libs/deadline"
	"xii/libs/xiiapi"
	"xii/libs/xiiapi/xiihttp"
)

// MaxExportRows bounds a CSV export; past it the export ends with the
// trailer ExportTruncatedTrailer "true". Narrow the filter (since/until)
// to export more in parts.
const MaxExportRows = 100_000

// CSV export headers.
const (
	// SyncMissingHeader names, comma-separated, the providers the export's
	// first page could not sync; empty when it was complete.
	SyncMissingHeader = xiiapi.SyncMissingHeader
	// ExportTruncatedTrailer is "true" when more rows matched than
	// MaxExportRows, sent as an HTTP trailer after the last row.
	ExportTruncatedTrailer = "X-Export-Truncated"
)

// csvColumns are the export's columns, in order.
var csvColumns = []string{"created_at", "provider", "provider_id", "survey", "device", "location", "text", "answers"}

// csvExport streams every response matching a filter as CSV, newest
// first, paging through the aggregator with its cursor so that no more
// than one page is held at a time. The first page's sync is the export's
// freshness point: its completeness is in the headers, written before the
// first row. Each later page is one more fresh read under a deadline of
// the same length; keyset paging continues strictly after the rows already
// written, so a response acknowledged after the first page is newer than
// the cursor and not in the export, and none is written twice.
type csvExport struct {
	responses   endpoint.Endpoint // takes a deadline.Request of a ResponsesRequest
	timeouts    xiiapi.Timeouts
	encodeError kithttp.ErrorEncoder
	logger      *slog.Logger
	pageSize    int
	maxRows     int
}

func (x csvExport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, timeout, err := xiihttp.ReadQuery(r, csvParams, x.timeouts)
	if err != nil {
		x.encodeError(ctx, err, w)
		return
	}
	f, err := xiiapi.ParseFilter(v)
	if err != nil {
		x.encodeError(ctx, err, w)
		return
	}
	q := Query{Filter: f, Limit: x.pageSize}
	page, err := x.page(ctx, q, timeout)
	if err != nil {
		x.encodeError(ctx, err, w)
		return
	}

	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="responses.csv"`)
	h.Set("X-Content-Type-Options", "nosniff")
	xiihttp.SetSyncHeaders(h, page.Sync.Complete, page.Sync.Incomplete())
	h.Set("Trailer", ExportTruncatedTrailer)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}

	cw := csv.NewWriter(w)
	rc := http.NewResponseController(w)
	write := func(rec []string) {
		if err == nil {
			err = cw.Write(rec)
		}
	}
	write(csvColumns)
	rows, truncated := 0, false
	for {
		for _, resp := range page.Responses {
			if rows == x.maxRows {
				truncated = true
				break
			}
			write(csvRecord(resp))
			rows++
		}
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil || truncated || page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
		if rows == x.maxRows {
			q.Limit = 1 // is there more?
		}
		page, err = x.page(ctx, q, timeout)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return // the client went away
	case err != nil:
		// The status is long sent: break the stream, so that a cut export
		// is never taken for a whole one.
		x.logger.ErrorContext(ctx, "csv export failed", "err", err, "rows", rows)
		panic(http.ErrAbortHandler)
	}
	h.Set(ExportTruncatedTrailer, strconv.FormatBool(truncated))
}

// page reads one page as the JSON route would, under its own deadline.
func (x csvExport) page(ctx context.Context, q Query, timeout time.Duration) (Page, error) {
	resp, err := x.responses(ctx, deadline.Request{Request: ResponsesRequest{Query: q}, Timeout: timeout})
	if err != nil {
		return Page{}, err
	}
	rr, ok := resp.(ResponsesResponse)
	if !ok {
		return Page{}, errors.New("csv export: unexpected endpoint answer")
	}
	if rr.Err != nil {
		return Page{}, fmt.Errorf("csv export: %w", rr.Err)
	}
	return rr.Page, nil
}

// csvRecord is one response as a CSV record, each text cell made safe to
// open in a spreadsheet.
func csvRecord(r Response) []string {
	answers := ""
	if len(r.Answers) > 0 {
		answers = string(r.Answers)
	}
	return []string{
		r.CreatedAt.UTC().Format(time.RFC3339Nano),
		CSVCell(r.Provider), CSVCell(r.ProviderID), CSVCell(r.Survey), CSVCell(r.Device),
		CSVCell(r.Location), CSVCell(r.Text), CSVCell(answers),
	}
}

// CSVCell guards a cell against formula injection: a spreadsheet runs a
// cell that starts with = + - @ (or a tab or carriage return, which some
// strip first) as a formula, so such a cell is prefixed with a single
// quote, which spreadsheets show as text. Quoting for CSV itself is the
// csv.Writer's.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
