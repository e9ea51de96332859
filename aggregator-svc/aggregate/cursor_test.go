package aggregate

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// TestParseKeyRejectsWhatTheStoreCannotHold: a cursor is the client's to
// forge, so every field is checked before it reaches PostgreSQL, which
// refuses a NUL in text and an offset beyond ±15:59 (a 500 before).
func TestParseKeyRejectsWhatTheStoreCannotHold(t *testing.T) {
	forge := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	for _, tt := range []struct{ name, cursor string }{
		{"NUL in provider", forge(`{"t":"2026-01-01T00:00:00Z","p":"a\u0000","i":"1"}`)},
		{"NUL in id", forge(`{"t":"2026-01-01T00:00:00Z","p":"blue","i":"1\u0000"}`)},
		{"long provider", forge(`{"t":"2026-01-01T00:00:00Z","p":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","i":"1"}`)},
		{"no time", forge(`{"p":"blue","i":"1"}`)},
		{"unknown field", forge(`{"t":"2026-01-01T00:00:00Z","p":"blue","i":"1","x":1}`)},
	} {
		if _, err := ParseKey(tt.cursor); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: ParseKey = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestParseKeyReadsUTC(t *testing.T) {
	k, err := ParseKey(base64.RawURLEncoding.EncodeToString([]byte(`{"t":"2026-01-01T00:00:00+23:59","p":"blue","i":"1"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 12, 31, 0, 1, 0, 0, time.UTC); k.CreatedAt != want || k.CreatedAt.Location() != time.UTC {
		t.Errorf("time %v (%v), want %v in UTC", k.CreatedAt, k.CreatedAt.Location(), want)
	}
	again, err := ParseKey(k.String())
	if err != nil || *again != *k {
		t.Errorf("round trip: %+v, %v; want %+v", again, err, k)
	}
}
