package provider

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Record limits. The text limits are survey-svc's, so every record can be
// found with the filters the dashboard accepts; answers get more room
// because external providers send richer answers than survey-svc allows.
const (
	MaxProviderIDLen = 128 // bytes
	MaxSurveyLen     = 64  // characters, as the rest
	MaxTextLen       = 4096
	MaxDeviceLen     = 64
	MaxLocationLen   = 128
	MaxAnswersBytes  = 64 << 10
)

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
	var obj map[string]json.RawMessage
	switch {
	case len(a) > MaxAnswersBytes:
		return fmt.Errorf("answers: larger than %d bytes", MaxAnswersBytes)
	case !utf8.Valid(a):
		return fmt.Errorf("answers: not valid UTF-8")
	case json.Unmarshal(a, &obj) != nil || obj == nil:
		return fmt.Errorf("answers: must be a JSON object")
	case hasNULEscape(a):
		return fmt.Errorf("answers: contains a NUL character")
	}
	return nil
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
