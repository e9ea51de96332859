package provider

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeTypeform speaks the Typeform Responses API for one form as its
// reference documents it:
//
//	GET /forms/{form_id}/responses with "Authorization: Bearer <token>"
//	page_size    1..1000, default 25
//	since, until submitted_at bounds, inclusive: Unix seconds or ISO 8601
//	             UTC to the second (2020-03-20T14:00:59)
//	after,before a response token, exclusive; answered in the order the
//	             responses were processed, and refused together with sort
//	sort         submitted_at,desc (the default) or submitted_at,asc
//	200 {"total_items":N,"page_count":N,"items":[...]}
//	4xx {"code":"...","description":"..."}
//
// Its responses are processed in the order add is called, one second
// apart. Unknown parameters are refused, to catch an adapter that sends
// what it should not.
type fakeTypeform struct {
	formID, token string

	mu      sync.Mutex
	items   []map[string]any // in processing order
	queries []url.Values
}

var fakeEpoch = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)

// add processes n more responses.
func (f *fakeTypeform) add(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.items = append(f.items, typeformItem(len(f.items)+1))
	}
}

// typeformItem is response i in the documented shape.
func typeformItem(i int) map[string]any {
	tok := fmt.Sprintf("%032x", i*7919)
	submitted := fakeEpoch.Add(time.Duration(i) * time.Second)
	return map[string]any{
		"landing_id":   tok,
		"token":        tok,
		"response_id":  tok,
		"landed_at":    submitted.Add(-time.Minute).Format(time.RFC3339),
		"submitted_at": submitted.Format(time.RFC3339),
		"metadata": map[string]any{
			"user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15",
			"platform":   "mobile",
			"referer":    "https://acme.typeform.com/to/u6nXL7",
			"network_id": "9d4c7a",
			"browser":    "touch",
		},
		"hidden":     map[string]any{"location": "Germany"},
		"calculated": map[string]any{"score": i % 5},
		"answers": []any{
			map[string]any{"field": map[string]any{"id": "JwWggjAKtOkA", "type": "short_text", "ref": "name"}, "type": "text", "text": fmt.Sprintf("respondent %d", i)},
			map[string]any{"field": map[string]any{"id": "k6TP9oLGgHjl", "type": "multiple_choice", "ref": "color"}, "type": "choice", "choice": map[string]any{"id": "c1", "label": "Blue", "ref": "blue"}},
			map[string]any{"field": map[string]any{"id": "WOTdC00F8A3h", "type": "rating"}, "type": "number", "number": i % 5},
		},
		"variables": []any{map[string]any{"key": "score", "type": "number", "number": i % 5}},
	}
}

func (f *fakeTypeform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, r.URL.Query())
	if r.Method != http.MethodGet || r.URL.Path != "/forms/"+f.formID+"/responses" {
		typeformError(w, http.StatusNotFound, "FORM_NOT_FOUND", "Non existing form with uid")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+f.token)) != 1 {
		typeformError(w, http.StatusUnauthorized, "AUTHENTICATION_FAILED", "Authentication credentials not found on the Request Headers")
		return
	}
	items, status, msg := f.page(r.URL.Query())
	if status != http.StatusOK {
		typeformError(w, status, "VALIDATION_ERROR", msg)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(items)
}

// page answers query q, or gives the status and message of its refusal.
func (f *fakeTypeform) page(q url.Values) (map[string]any, int, string) {
	for name := range q {
		if !slices.Contains([]string{"page_size", "since", "until", "after", "before", "sort"}, name) {
			return nil, http.StatusBadRequest, "unknown parameter " + name
		}
	}
	size := 25
	if s := q.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return nil, http.StatusBadRequest, "page_size must be between 1 and 1000"
		}
		size = n
	}
	since, err1 := typeformTime(q.Get("since"), time.Time{})
	until, err2 := typeformTime(q.Get("until"), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err1 != nil || err2 != nil {
		return nil, http.StatusBadRequest, "since and until must be ISO 8601 or Unix seconds"
	}
	if (q.Has("after") || q.Has("before")) && q.Has("sort") {
		return nil, http.StatusBadRequest, "after and before cannot be used with sort"
	}
	var in []map[string]any // submitted within [since, until], in processing order
	for _, it := range f.items {
		at, _ := time.Parse(time.RFC3339, it["submitted_at"].(string))
		if !at.Before(since) && !at.After(until) {
			in = append(in, it)
		}
	}
	total := len(in)
	at := func(tok string) int {
		return slices.IndexFunc(in, func(it map[string]any) bool { return it["token"] == tok })
	}
	switch {
	case q.Has("after"):
		i := at(q.Get("after"))
		if i < 0 {
			return nil, http.StatusBadRequest, "unknown token in after"
		}
		in = in[i+1:]
	case q.Has("before"):
		i := at(q.Get("before"))
		if i < 0 {
			return nil, http.StatusBadRequest, "unknown token in before"
		}
		in = in[max(0, i-size):i]
	default:
		switch q.Get("sort") {
		case "", "submitted_at,desc":
			in = slices.Clone(in)
			slices.SortStableFunc(in, func(a, b map[string]any) int {
				return cmp.Compare(b["submitted_at"].(string), a["submitted_at"].(string))
			})
		case "submitted_at,asc":
		default:
			return nil, http.StatusBadRequest, "sort must be submitted_at,asc or submitted_at,desc"
		}
	}
	in = in[:min(size, len(in))]
	if in == nil {
		in = []map[string]any{}
	}
	return map[string]any{"total_items": total, "page_count": (total + size - 1) / size, "items": in}, http.StatusOK, ""
}

// typeformTime parses a since/until value; "" gives def.
func typeformTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Parse("2006-01-02T15:04:05", strings.TrimSuffix(s, "Z"))
}

func typeformError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "description": desc})
}
