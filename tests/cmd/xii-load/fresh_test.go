package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"xii/libs/xiiapi"
)

func page(t *testing.T, rows ...xiiapi.Response) []byte {
	t.Helper()
	b, err := json.Marshal(xiiapi.ResponsesBody{Data: rows, Sync: &xiiapi.SyncReport{Complete: true}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFreshnessCountsAMissingWriteAsStale(t *testing.T) {
	f, err := newFreshness("http://x/api/v1/responses?device=iOS&location=Germany&limit=2")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.want(); ok {
		t.Fatal("a write wanted before any was acknowledged")
	}
	var w response
	if err := json.Unmarshal(f.body(), &w); err != nil || w.Device != "iOS" || w.Location != "Germany" || !strings.Contains(w.Text, f.run) {
		t.Fatalf("write %+v, %v: want iOS in Germany with the run's mark", w, err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := f.acked([]byte(`{"id":7,"text":"` + w.Text + `","created_at":"2026-12-01T10:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	want, ok := f.want()
	if !ok || want.text != w.Text || !want.createdAt.Equal(t0) {
		t.Fatalf("want %+v, %v", want, ok)
	}
	// An older write's text is a prefix of none: "#1" must not match "#12".
	other := xiiapi.Response{Text: w.Text + "2", CreatedAt: t0.Add(-time.Second)}
	tests := []struct {
		name  string
		body  []byte
		stale bool
	}{
		{"present", page(t, xiiapi.Response{Text: "newer", CreatedAt: t0.Add(time.Second)}, xiiapi.Response{Text: w.Text, CreatedAt: t0}), false},
		{"missing", page(t, other), true},
		{"missing, page full of older", page(t, other, other), true},
		{"pushed off by newer", page(t, xiiapi.Response{Text: "a", CreatedAt: t0.Add(time.Second)}, xiiapi.Response{Text: "b", CreatedAt: t0}), false},
		{"empty", page(t), true},
		{"unreadable", []byte("{"), true},
	}
	for _, tt := range tests {
		if got := f.stale(want, tt.body); got != tt.stale {
			t.Errorf("%s: stale = %v, want %v", tt.name, got, tt.stale)
		}
	}
}

func TestFreshnessRefusesFiltersAWriteCannotMatch(t *testing.T) {
	for _, q := range []string{"provider=blue", "since=2026-01-01T00:00:00Z", "cursor=x", "limit=0"} {
		if _, err := newFreshness("http://x/api/v1/responses?" + q); err == nil {
			t.Errorf("%s accepted", q)
		}
	}
}
