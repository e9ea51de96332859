package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
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
		`{"text":"a","text":"b","device":"d","location":"l"}`, `{"TEXT":"a","device":"d","location":"l"}`,
		`{"text":"a","device":"d","location":"l","answers":{"q":[{"x":1,"x":2}]}}`,
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
		if keys := topLevelKeys(t, body); len(keys) != len(slices.Compact(slices.Sorted(slices.Values(keys)))) {
			t.Fatalf("accepted a key twice: %v", keys)
		} else if i := slices.IndexFunc(keys, func(k string) bool { return !slices.Contains(newResponseFields, k) }); i >= 0 {
			t.Fatalf("accepted the field %q", keys[i])
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

// topLevelKeys lists the keys of the JSON object body, as written and in
// order, duplicates included.
func topLevelKeys(t *testing.T, body []byte) []string {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("accepted %q, which is no JSON object: %v", body, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			continue
		case json.Delim('}'), json.Delim(']'):
			depth--
			continue
		}
		if k, ok := tok.(string); ok && depth == 1 {
			keys = append(keys, k)
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return keys
			}
		}
	}
}
