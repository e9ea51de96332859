package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
)

// xiiItem is a valid export item with repl's replacements applied.
func xiiItem(id int, repl ...string) string {
	item := fmt.Sprintf(`{"id":%d,"survey":"s","text":"t","device":"d","location":"l","answers":{"a":1},"created_at":"2026-01-01T00:00:00Z"}`, id)
	return strings.NewReplacer(repl...).Replace(item)
}

func xiiBody(more bool, next string, items ...string) string {
	return fmt.Sprintf(`{"data":[%s],"next_cursor":%q,"has_more":%v}`, strings.Join(items, ","), next, more)
}

func TestXIIBadPages(t *testing.T) {
	tests := map[string]string{
		"empty body":           ``,
		"malformed JSON":       `{"data":[`,
		"not an object":        `[]`,
		"trailing data":        xiiBody(false, "c") + `{}`,
		"unknown field":        `{"data":[],"next_cursor":"c","has_more":false,"total":3}`,
		"unknown item field":   xiiBody(false, "c", xiiItem(1, `"survey"`, `"admin":true,"survey"`)),
		"missing data":         `{"next_cursor":"c","has_more":false}`,
		"null data":            `{"data":null,"next_cursor":"c","has_more":false}`,
		"missing next_cursor":  `{"data":[],"has_more":false}`,
		"missing has_more":     `{"data":[],"next_cursor":"c"}`,
		"data not an array":    `{"data":{},"next_cursor":"c","has_more":false}`,
		"id a string":          xiiBody(false, "c", xiiItem(1, `"id":1`, `"id":"1"`)),
		"id fractional":        xiiBody(false, "c", xiiItem(1, `"id":1`, `"id":1.5`)),
		"has_more a string":    `{"data":[],"next_cursor":"c","has_more":"no"}`,
		"created_at a number":  xiiBody(false, "c", xiiItem(1, `"2026-01-01T00:00:00Z"`, `1767225600`)),
		"created_at malformed": xiiBody(false, "c", xiiItem(1, `2026-01-01T00:00:00Z`, `yesterday`)),
		"id missing":           xiiBody(false, "c", xiiItem(1, `"id":1,`, ``)),
		"id negative":          xiiBody(false, "c", xiiItem(-4)),
		"duplicate ids":        xiiBody(false, "c", xiiItem(1), xiiItem(2), xiiItem(1)),
		"more after nothing":   xiiBody(true, "c2"),
		"more without cursor":  xiiBody(true, "", xiiItem(1)),
		"more, cursor stuck":   xiiBody(true, testCursor, xiiItem(1)),
		"cursor too long":      xiiBody(false, strings.Repeat("c", MaxCursorLen+1)),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			src := xiiFor(t, canned(200, nil, body), Options{})
			page, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
			checkFetchError(t, "blue", page, err, ErrBadPage)
		})
	}
}

// TestXIIQuarantinesBadRecords: a record the aggregate cannot hold is set
// aside with its reason, and the page, with every good record, goes on (a
// single such record stopped its provider for good before).
func TestXIIQuarantinesBadRecords(t *testing.T) {
	long := strings.Repeat("x", aggregate.MaxTextLen+1)
	tests := map[string]string{
		"survey empty":       xiiBody(false, "c", xiiItem(1, `"survey":"s"`, `"survey":""`)),
		"device missing":     xiiBody(false, "c", xiiItem(1, `"device":"d",`, ``)),
		"text too long":      xiiBody(false, "c", xiiItem(1, `"text":"t"`, `"text":"`+long+`"`)),
		"NUL in location":    xiiBody(false, "c", xiiItem(1, `"location":"l"`, `"location":"l\u0000"`)),
		"created_at missing": xiiBody(false, "c", xiiItem(1, `,"created_at":"2026-01-01T00:00:00Z"`, ``)),
		"answers an array":   xiiBody(false, "c", xiiItem(1, `{"a":1}`, `[1]`)),
		"answers a string":   xiiBody(false, "c", xiiItem(1, `{"a":1}`, `"yes"`)),
		"answers with NUL":   xiiBody(false, "c", xiiItem(1, `{"a":1}`, `{"a":"\u0000"}`)),
		"answers too large":  xiiBody(false, "c", xiiItem(1, `{"a":1}`, `{"a":"`+strings.Repeat("x", aggregate.MaxAnswersBytes)+`"}`)),
		"one bad of many":    xiiBody(false, "c", xiiItem(1), xiiItem(2, `"survey":"s"`, `"survey":""`), xiiItem(3)),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			src := xiiFor(t, canned(200, nil, body), Options{})
			page, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
			if err != nil {
				t.Fatalf("Fetch: %v, want the page with the bad record set aside", err)
			}
			if len(page.Quarantined) != 1 || page.Quarantined[0].ProviderID == "" || page.Quarantined[0].Reason == "" {
				t.Fatalf("quarantined %+v, want the one bad record with its reason", page.Quarantined)
			}
			for _, r := range page.Records {
				if r.ProviderID == page.Quarantined[0].ProviderID {
					t.Errorf("record %s both stored and quarantined", r.ProviderID)
				}
			}
		})
	}
}

func TestXIIContentType(t *testing.T) {
	src := xiiFor(t, canned(200, map[string]string{"Content-Type": "text/html"}, xiiBody(false, "c")), Options{})
	page, err := src.Fetch(context.Background(), Request{})
	checkFetchError(t, "blue", page, err, ErrBadPage)
}

func TestXIIStatus(t *testing.T) {
	tests := []struct {
		status int
		header map[string]string
		body   string
		want   error
		inErr  string
	}{
		{401, map[string]string{"WWW-Authenticate": `Bearer realm="xii-export"`}, `{"error":"unauthorized","code":"unauthorized"}`, ErrUnauthorized, "status 401: unauthorized"},
		{403, nil, ``, ErrUnauthorized, "status 403"},
		{429, map[string]string{"Retry-After": "3"}, `{"error":"slow down"}`, ErrRateLimited, "retry after 3s"},
		{500, nil, `{"error":"Internal Server Error","code":"internal"}`, ErrUnavailable, "status 500"},
		{502, map[string]string{"Content-Type": "text/html"}, `<html>bad gateway</html>`, ErrUnavailable, "status 502"},
		{503, nil, `{"error":"Service Unavailable","code":"timeout"}`, ErrUnavailable, "status 503"},
		{408, nil, ``, ErrUnavailable, "status 408"},
		{400, nil, `{"error":"invalid request: cursor: malformed","code":"invalid_request"}`, ErrRejected, "cursor: malformed"},
		{404, nil, `{"error":"no such route","code":"not_found"}`, ErrBadPage, "status 404"},
		{204, nil, ``, ErrBadPage, "unexpected status"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			src := xiiFor(t, canned(tt.status, tt.header, tt.body), Options{})
			page, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
			checkFetchError(t, "blue", page, err, tt.want)
			if !strings.Contains(err.Error(), tt.inErr) {
				t.Errorf("err = %q, want it to say %q", err, tt.inErr)
			}
			if retry := tt.want == ErrUnavailable || tt.want == ErrRateLimited; Retryable(err) != retry {
				t.Errorf("Retryable(%v) = %v, want %v", err, !retry, retry)
			}
		})
	}
}

func TestXIIHugePage(t *testing.T) {
	item := func(i int) string { return xiiItem(i + 1) }
	src := xiiFor(t, endlessPage(`{"data":[`, item, 64<<20, `],"next_cursor":"c","has_more":false}`), Options{MaxPageBytes: 64 << 10})
	page, err := src.Fetch(context.Background(), Request{})
	checkFetchError(t, "blue", page, err, ErrBadPage)
	if !strings.Contains(err.Error(), "larger than 65536 bytes") {
		t.Errorf("err = %q, want it to name the limit", err)
	}
}

func TestXIISlowPage(t *testing.T) {
	for name, partial := range map[string]string{"no headers": "", "half a body": `{"data":[` + xiiItem(1)} {
		t.Run(name, func(t *testing.T) {
			src := xiiFor(t, stall(t, partial), Options{})
			start := time.Now()
			page, err := fetchWithin(src, 50*time.Millisecond, Request{Cursor: testCursor})
			checkFetchError(t, "blue", page, err, context.DeadlineExceeded)
			if waited := time.Since(start); waited > 10*time.Second {
				t.Errorf("returned after %v, long past the deadline", waited)
			}
		})
	}
}

func TestXIICanceled(t *testing.T) {
	src := xiiFor(t, stall(t, ""), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	page, err := src.Fetch(ctx, Request{})
	checkFetchError(t, "blue", page, err, context.Canceled)
}

func TestXIIUnreachable(t *testing.T) {
	srv := newServer(t, http.NotFoundHandler())
	src := newSource(t, srv, "blue", Descriptor{URL: srv.URL, Dialect: DialectXII}, Options{Credential: boundTo(t, srv.URL, testToken)})
	srv.Close()
	page, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
	checkFetchError(t, "blue", page, err, ErrUnavailable)
}

// TestXIISecrets has a provider quote our token back in every place an
// error message could pick it up from.
func TestXIISecrets(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"error message": canned(400, nil, `{"error":"bad token `+testToken+`"}`),
		"unknown field": canned(200, nil, `{"`+testToken+`":1}`),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			src := xiiFor(t, h, Options{})
			_, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
			if err == nil {
				t.Fatal("no error")
			}
			checkNoSecrets(t, err)
			if !errors.Is(err, ErrBadPage) {
				t.Errorf("err = %v, want ErrBadPage through the redaction", err)
			}
		})
	}
}
