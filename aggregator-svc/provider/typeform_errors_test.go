package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
)

// tfItem is a valid Typeform item with repl's replacements applied.
func tfItem(tok string, repl ...string) string {
	item := `{"landing_id":"TOK","token":"TOK","response_id":"TOK","landed_at":"2026-02-01T08:59:00Z",` +
		`"submitted_at":"2026-02-01T09:00:00Z","metadata":{"user_agent":"Mozilla/5.0","platform":"other",` +
		`"referer":"https://acme.typeform.com/to/u6nXL7","network_id":"n","browser":"default"},"hidden":{},` +
		`"calculated":{"score":0},"answers":[{"field":{"id":"f1","type":"short_text","ref":"name"},"type":"text","text":"hi"}],"variables":[]}`
	return strings.NewReplacer(append(repl, "TOK", tok)...).Replace(item)
}

func tfBody(items ...string) string {
	return fmt.Sprintf(`{"total_items":%d,"page_count":1,"items":[%s]}`, len(items), strings.Join(items, ","))
}

func TestTypeformBadPages(t *testing.T) {
	tests := map[string]string{
		"empty body":             ``,
		"malformed JSON":         `{"items":[`,
		"trailing data":          tfBody() + `[]`,
		"items missing":          `{"total_items":0,"page_count":0}`,
		"items null":             `{"items":null}`,
		"items an object":        `{"items":{}}`,
		"token a number":         tfBody(tfItem("a", `"token":"TOK"`, `"token":7`)),
		"token empty":            tfBody(tfItem("")),
		"token too long":         tfBody(tfItem(strings.Repeat("t", aggregate.MaxProviderIDLen+1))),
		"submitted_at malformed": tfBody(tfItem("a", `2026-02-01T09:00:00Z`, `2026-02-01 09:00`)),
		"metadata a string":      tfBody(tfItem("a", `"metadata":{`, `"metadata":"x","m":{`)),
		"hidden an array":        tfBody(tfItem("a", `"hidden":{}`, `"hidden":[]`)),
		"answers an object":      tfBody(tfItem("a", `"answers":[`, `"answers":{"x":`, `}],"variables"`, `}},"variables"`)),
		"answer without field":   tfBody(tfItem("a", `"field":{"id":"f1","type":"short_text","ref":"name"},`, ``)),
		"answer without type":    tfBody(tfItem("a", `"type":"text",`, ``)),
		"answer without value":   tfBody(tfItem("a", `,"text":"hi"`, ``)),
		"text answer a number":   tfBody(tfItem("a", `"text":"hi"`, `"text":3`)),
		"choice a string":        tfBody(tfItem("a", `"type":"text","text":"hi"`, `"type":"choice","choice":"Blue"`)),
		"duplicate tokens":       tfBody(tfItem("a"), tfItem("b"), tfItem("a")),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			src := typeformFor(t, canned(200, nil, body), Options{})
			page, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
			checkFetchError(t, "acme", page, err, ErrBadPage)
		})
	}
}

func TestTypeformIgnoresUnknownFields(t *testing.T) {
	body := `{"total_items":1,"page_count":1,"new_envelope_field":true,"items":[` +
		tfItem("a", `"token":"a"`, `"token":"a","tags":["x"],"response_type":"completed","thankyou_screen_ref":"t"`) + `]}`
	page, err := typeformFor(t, canned(200, nil, body), Options{}).Fetch(context.Background(), Request{})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("Fetch = %+v, %v; want one record", page, err)
	}
}

func TestTypeformStatus(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   error
		inErr  string
	}{
		{401, `{"code":"AUTHENTICATION_FAILED","description":"Authentication credentials not found on the Request Headers"}`, ErrUnauthorized, "status 401: Authentication credentials not found"},
		{403, `{"code":"FORBIDDEN","description":"Access denied"}`, ErrUnauthorized, "status 403"},
		{429, `{"code":"RATE_LIMITED","description":"Too many requests"}`, ErrRateLimited, "status 429"},
		{500, `{"code":"INTERNAL_ERROR"}`, ErrUnavailable, "status 500: INTERNAL_ERROR"},
		{503, ``, ErrUnavailable, "status 503"},
		{404, `{"code":"FORM_NOT_FOUND","description":"Non existing form with uid"}`, ErrRejected, "status 404"},
		{400, `{"code":"VALIDATION_ERROR","description":"page_size must be between 1 and 1000"}`, ErrRejected, "page_size must be"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			src := typeformFor(t, canned(tt.status, nil, tt.body), Options{})
			page, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
			checkFetchError(t, "acme", page, err, tt.want)
			if !strings.Contains(err.Error(), tt.inErr) {
				t.Errorf("err = %q, want it to say %q", err, tt.inErr)
			}
		})
	}
}

func TestTypeformWrongToken(t *testing.T) {
	fake := &fakeTypeform{formID: testForm, token: "another-token"}
	page, err := typeformFor(t, fake, Options{}).Fetch(context.Background(), Request{})
	checkFetchError(t, "acme", page, err, ErrUnauthorized)
}

func TestTypeformHugePage(t *testing.T) {
	item := func(i int) string { return tfItem(fmt.Sprint(i)) }
	src := typeformFor(t, endlessPage(`{"total_items":1,"page_count":1,"items":[`, item, 64<<20, `]}`), Options{MaxPageBytes: 64 << 10})
	page, err := src.Fetch(context.Background(), Request{})
	checkFetchError(t, "acme", page, err, ErrBadPage)
}

func TestTypeformSlowPage(t *testing.T) {
	for name, partial := range map[string]string{"no headers": "", "half a body": `{"items":[` + tfItem("a")} {
		t.Run(name, func(t *testing.T) {
			src := typeformFor(t, stall(t, partial), Options{})
			page, err := fetchWithin(src, 50*time.Millisecond, Request{Cursor: testCursor})
			checkFetchError(t, "acme", page, err, context.DeadlineExceeded)
		})
	}
}

func TestTypeformSecrets(t *testing.T) {
	src := typeformFor(t, canned(403, nil, `{"code":"FORBIDDEN","description":"token `+testToken+` may not read this form"}`), Options{})
	page, err := src.Fetch(context.Background(), Request{Cursor: testCursor})
	checkFetchError(t, "acme", page, err, ErrUnauthorized)
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err = %q, want the token redacted", err)
	}
}
