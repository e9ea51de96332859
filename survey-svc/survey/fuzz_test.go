package survey

import (
	"errors"
	"testing"
)

// FuzzDecodeNewResponse checks that the decoder never panics, rejects only
// with ErrInvalid, and that whatever it accepts and validates survives a
// second validation unchanged.
func FuzzDecodeNewResponse(f *testing.F) {
	for _, seed := range []string{
		`{"text":"request: 01 to blue survey","device":"x","location":"y"}`,
		`{"text":"t","device":"d","location":"l","survey":"s","answers":{"a":[1,2]}}`,
		`{"text":"t"}{}`, `[]`, `null`, `{"answers":null}`, "{\"text\":\"\xff\"}", ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		nr, err := DecodeNewResponse(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("DecodeNewResponse error %v does not wrap ErrInvalid", err)
			}
			return
		}
		nr.Normalize()
		if err := nr.Validate(); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again := nr
		again.Normalize()
		if again.Validate() != nil || again.Text != nr.Text || again.Survey != nr.Survey {
			t.Fatalf("normalising twice changed %+v to %+v", nr, again)
		}
	})
}

// FuzzParseExportQuery checks that query parsing never panics and rejects
// only with ErrInvalid.
func FuzzParseExportQuery(f *testing.F) {
	for _, seed := range []string{"", "limit=5&device=iOS", "after=AQ&limit=x", "a=%zz", "limit=1&limit=2"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := ParseExportQuery(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseExportQuery(%q) error %v does not wrap ErrInvalid", raw, err)
			}
			return
		}
		if q.Limit < 0 || q.Limit > MaxExportLimit {
			t.Fatalf("ParseExportQuery(%q) accepted limit %d", raw, q.Limit)
		}
		if _, err := ParseCursor(q.After.String()); err != nil {
			t.Fatalf("accepted cursor does not round-trip: %v", err)
		}
	})
}
