package provider

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// fakeXII speaks xii-v1 as survey-svc documents it: GET /api/v1/responses
// with after, rescan, limit (1..1000, default 100) and the survey, device
// and location filters, strict about its parameters, a bearer token, JSON
// error bodies. Its cursor keeps survey-svc's two positions: Scan, the
// last row returned, and Stable, before which every row is final. A page
// moves Stable only over final rows met before any pending one; rescan
// restarts from Stable, and so does the cursor of a caught-up page.
type fakeXII struct {
	token string

	mu      sync.Mutex
	rows    []fakeXIIRow
	queries []url.Values
}

type fakeXIIRow struct {
	resp    xiiResponse
	pending bool // its transaction was not yet below the horizon
}

// xiiCursor counts rows: Scan rows returned, the first Stable of them final.
type xiiCursor struct{ scan, stable int }

func (c xiiCursor) String() string {
	if c == (xiiCursor{}) {
		return ""
	}
	return fmt.Sprintf("v1.%d.%d", c.scan, c.stable)
}

// add appends n responses, ids following the last, pending or final.
func (f *fakeXII) add(n int, pending bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		id := int64(len(f.rows) + 1)
		f.rows = append(f.rows, fakeXIIRow{pending: pending, resp: xiiResponse{
			ID:        id,
			Survey:    "default",
			Text:      fmt.Sprintf("response %d", id),
			Device:    "iOS",
			Location:  "Germany",
			Answers:   json.RawMessage(fmt.Sprintf(`{"score":%d}`, id%10)),
			CreatedAt: time.Date(2026, 1, 1, 0, 0, int(id), 0, time.UTC),
		}})
	}
}

// settle makes every row final.
func (f *fakeXII) settle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rows {
		f.rows[i].pending = false
	}
}

func (f *fakeXII) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, r.URL.Query())
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/responses" {
		writeJSONError(w, http.StatusNotFound, "no such route", "not_found")
		return
	}
	want := []byte("Bearer " + f.token)
	if f.token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="xii-export"`)
		writeJSONError(w, http.StatusUnauthorized, "unauthorized", "unauthorized")
		return
	}
	q := r.URL.Query()
	for name, vs := range q {
		switch {
		case name != "after" && name != "rescan" && name != "limit" && name != "survey" && name != "device" && name != "location":
			writeJSONError(w, http.StatusBadRequest, "invalid request: "+name+": unknown parameter", "invalid_request")
			return
		case len(vs) > 1:
			writeJSONError(w, http.StatusBadRequest, "invalid request: "+name+": given more than once", "invalid_request")
			return
		}
	}
	var after xiiCursor
	if s := q.Get("after"); s != "" {
		if _, err := fmt.Sscanf(s, "v1.%d.%d", &after.scan, &after.stable); err != nil || after.scan > len(f.rows) {
			writeJSONError(w, http.StatusBadRequest, "invalid request: cursor: malformed", "invalid_request")
			return
		}
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeJSONError(w, http.StatusBadRequest, "invalid request: limit: must be an integer between 1 and 1000", "invalid_request")
			return
		}
		limit = n
	}
	if q.Get("rescan") == "true" {
		after.scan = after.stable
	}
	c, data := after, []xiiResponse{}
	for i := after.scan; i < len(f.rows) && len(data) < limit; i++ {
		row := f.rows[i]
		final := c.scan == c.stable && !row.pending
		c.scan = i + 1
		if final {
			c.stable = i + 1
		}
		if match(q, row.resp) {
			data = append(data, row.resp)
		}
	}
	hasMore := c.scan < len(f.rows)
	if !hasMore {
		c.scan = c.stable
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"data": data, "next_cursor": c.String(), "has_more": hasMore})
}

func match(q url.Values, r xiiResponse) bool {
	return (q.Get("survey") == "" || q.Get("survey") == r.Survey) &&
		(q.Get("device") == "" || q.Get("device") == r.Device) &&
		(q.Get("location") == "" || q.Get("location") == r.Location)
}

func writeJSONError(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg, "code": code})
}
