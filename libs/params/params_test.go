package params

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	known := []string{"limit", "device"}
	for _, tt := range []struct {
		raw, wantErr string
	}{
		{"", ""},
		{"limit=5&device=iOS", ""},
		{"device=", ""},
		{"colour=red", "colour: unknown parameter (known: limit, device)"},
		{"limit=1&limit=2", "limit: given more than once"},
		{"zeta=1&alpha=2", "alpha: unknown parameter"},
		{"device=%zz", "query: malformed"},
		{"device=" + strings.Repeat("x", 100), "query: longer than 64 bytes"},
	} {
		_, err := Parse(tt.raw, known, 64)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Parse(%.30q) = %v, want %q", tt.raw, err, tt.wantErr)
		}
	}
}

func TestIntAndTime(t *testing.T) {
	v, _ := Parse("limit=7&bad=x&since=2026-01-02T15:04:05Z&when=yesterday", []string{"limit", "bad", "since", "when"}, 256)
	if n, err := Int(v, "limit", 1, 10); n != 7 || err != nil {
		t.Errorf("Int(limit) = %d, %v", n, err)
	}
	if n, err := Int(v, "absent", 1, 10); n != 0 || err != nil {
		t.Errorf("Int(absent) = %d, %v", n, err)
	}
	for _, name := range []string{"bad"} {
		if _, err := Int(v, name, 1, 10); err == nil || !strings.Contains(err.Error(), "must be an integer between 1 and 10") {
			t.Errorf("Int(%s) = %v", name, err)
		}
	}
	if _, err := Int(v, "limit", 1, 5); err == nil {
		t.Error("Int accepted 7 above 5")
	}
	if got, err := Time(v, "since"); err != nil || !got.Equal(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)) {
		t.Errorf("Time(since) = %v, %v", got, err)
	}
	if _, err := Time(v, "when"); err == nil || !strings.Contains(err.Error(), "when: must be an RFC 3339 time") {
		t.Errorf("Time(when) = %v", err)
	}
}
