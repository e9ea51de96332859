package aggregate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is one response as a provider exports it, before it is stored
// under the provider's name.
type Record struct {
	ProviderID string // unique and stable within the provider
	Survey     string
	Text       string
	Device     string
	Location   string
	Answers    json.RawMessage // a JSON object, or nil
	CreatedAt  time.Time
}

// Page is one page of a provider's export.
type Page struct {
	Records []Record
	// Quarantined are the page's records the aggregate cannot hold: kept
	// aside with the page, in its transaction, so that one bad record does
	// not hold its provider up, and applied once the provider fixes it.
	Quarantined []Quarantined
	// Next is the opaque cursor to resume after this page; it is stored
	// with the page's records in one transaction.
	Next string
	// HasMore reports that the provider had more records than the page held
	// when it answered. False means caught up.
	HasMore bool
}

// Record limits. The text limits are survey-svc's, so every record can be
// found with the filters the dashboard accepts; answers get more room
// because external providers send richer answers than survey-svc allows.
const (
	MaxProviderIDLen = 128 // bytes
	// MaxProviderNameLen bounds a provider's name, as discovery does.
	MaxProviderNameLen = 64
	MaxSurveyLen       = 64 // characters, as the rest
	MaxTextLen         = 4096
	MaxDeviceLen       = 64
	MaxLocationLen     = 128
	MaxAnswersBytes    = 64 << 10
	// MaxCursorLen bounds the cursor stored with each page.
	MaxCursorLen = 1024
)

// Quarantined is a record the aggregate cannot hold, kept aside: its id,
// why, and the record as the provider sent it, bounded.
type Quarantined struct {
	ProviderID string
	Reason     string
	Record     json.RawMessage // at most MaxQuarantinedBytes
}

// Position is where the aggregate stands with one provider: its cursor,
// and how many of its records are in quarantine.
type Position struct {
	Cursor      string
	Quarantined int
}

// MaxQuarantinedBytes bounds a quarantined record as kept.
const MaxQuarantinedBytes = 16 << 10

// Quarantine moves p's invalid records into p.Quarantined and returns the
// page that is left. A record without a usable provider id cannot be kept
// aside (nothing would say when it is fixed), so it stays and Validate
// refuses the page.
func (p Page) Quarantine() Page {
	kept := p.Records[:0:0]
	for _, r := range p.Records {
		err := r.Validate()
		if err == nil || checkString("provider id", r.ProviderID, MaxProviderIDLen, true) != nil || len(r.ProviderID) > MaxProviderIDLen {
			kept = append(kept, r)
			continue
		}
		raw, _ := json.Marshal(r)
		if len(raw) > MaxQuarantinedBytes {
			raw, _ = json.Marshal(map[string]string{"truncated": string(raw[:MaxQuarantinedBytes])})
		}
		p.Quarantined = append(p.Quarantined, Quarantined{ProviderID: r.ProviderID, Reason: err.Error(), Record: raw})
	}
	p.Records = kept
	return p
}

// Validate reports the first problem with p that would keep it from being
// stored: an invalid record, a provider id given twice (one page is
// upserted in one statement, and PostgreSQL refuses to update a row twice
// in one INSERT ... ON CONFLICT), or a cursor that cannot be stored.
func (p Page) Validate() error {
	seen := make(map[string]bool, len(p.Records)+len(p.Quarantined))
	for i, r := range p.Records {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		if seen[r.ProviderID] {
			return fmt.Errorf("record %d: provider id %q given twice", i, r.ProviderID)
		}
		seen[r.ProviderID] = true
	}
	for _, q := range p.Quarantined {
		if seen[q.ProviderID] {
			return fmt.Errorf("provider id %q given twice", q.ProviderID)
		}
		seen[q.ProviderID] = true
	}
	return checkString("next cursor", p.Next, MaxCursorLen, false)
}

// Validate reports the first problem with r. The aggregate stores records
// in PostgreSQL, which refuses NUL characters in text and in jsonb, so
// those are problems too.
func (r Record) Validate() error {
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{
		{"provider id", r.ProviderID, MaxProviderIDLen, true},
		{"survey", r.Survey, MaxSurveyLen, true},
		{"text", r.Text, MaxTextLen, false},
		{"device", r.Device, MaxDeviceLen, true},
		{"location", r.Location, MaxLocationLen, true},
	} {
		if err := checkString(f.name, f.value, f.max, f.required); err != nil {
			return err
		}
	}
	if len(r.ProviderID) > MaxProviderIDLen {
		return fmt.Errorf("provider id: longer than %d bytes", MaxProviderIDLen)
	}
	if r.CreatedAt.IsZero() {
		return fmt.Errorf("created_at: required")
	}
	return checkAnswers(r.Answers)
}

func checkString(name, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return fmt.Errorf("%s: required", name)
	case !utf8.ValidString(v):
		return fmt.Errorf("%s: not valid UTF-8", name)
	case utf8.RuneCountInString(v) > max:
		return fmt.Errorf("%s: longer than %d characters", name, max)
	case strings.ContainsRune(v, 0):
		return fmt.Errorf("%s: contains a NUL character", name)
	}
	return nil
}

// checkAnswers accepts nil or one JSON object of at most MaxAnswersBytes.
func checkAnswers(a json.RawMessage) error {
	if a == nil {
		return nil
	}
	switch {
	case len(a) > MaxAnswersBytes:
		return fmt.Errorf("answers: larger than %d bytes", MaxAnswersBytes)
	case !utf8.Valid(a):
		return fmt.Errorf("answers: not valid UTF-8")
	case !isObject(a):
		return fmt.Errorf("answers: must be a JSON object")
	case hasNULEscape(a):
		return fmt.Errorf("answers: contains a NUL character")
	}
	return nil
}

// isObject reports whether b is one JSON object: valid JSON whose first
// character past white space opens an object. Checked without decoding,
// since every record of every page is (decoding into a map took a quarter
// of the aggregator's CPU while it synced a backlog).
func isObject(b []byte) bool {
	return json.Valid(b) && bytes.TrimLeft(b, " \t\r\n")[0] == '{'
}

// hasNULEscape reports whether the valid JSON text b has a \u0000 escape in
// one of its strings (a raw NUL byte cannot occur in valid JSON).
func hasNULEscape(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 < len(b) && b[i+1] == 'u' && string(b[i+2:min(i+6, len(b))]) == "0000" {
			return true
		}
		i++ // skip the escaped character, so `\\u0000` is not a NUL
	}
	return false
}
