package aggregate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRecordValidate(t *testing.T) {
	ok := Record{ProviderID: "1", Survey: "s", Text: "t", Device: "d", Location: "l", CreatedAt: time.Unix(1, 0)}
	tests := []struct {
		name    string
		edit    func(*Record)
		wantErr string
	}{
		{"valid", func(r *Record) {}, ""},
		{"valid without text", func(r *Record) { r.Text = "" }, ""},
		{"valid with answers", func(r *Record) { r.Answers = json.RawMessage(`{"a":"\\u0000 is escaped"}`) }, ""},
		{"no provider id", func(r *Record) { r.ProviderID = "" }, "provider id: required"},
		{"long provider id", func(r *Record) { r.ProviderID = strings.Repeat("é", 100) }, "provider id: longer than 128 bytes"},
		{"no survey", func(r *Record) { r.Survey = "" }, "survey: required"},
		{"long survey", func(r *Record) { r.Survey = strings.Repeat("s", MaxSurveyLen+1) }, "survey: longer than 64"},
		{"long text", func(r *Record) { r.Text = strings.Repeat("t", MaxTextLen+1) }, "text: longer than 4096"},
		{"no device", func(r *Record) { r.Device = "" }, "device: required"},
		{"invalid UTF-8", func(r *Record) { r.Location = "\xff" }, "location: not valid UTF-8"},
		{"NUL", func(r *Record) { r.Text = "a\x00b" }, "text: contains a NUL"},
		{"no created_at", func(r *Record) { r.CreatedAt = time.Time{} }, "created_at: required"},
		{"answers null", func(r *Record) { r.Answers = json.RawMessage(`null`) }, "answers: must be a JSON object"},
		{"answers array", func(r *Record) { r.Answers = json.RawMessage(`[]`) }, "answers: must be a JSON object"},
		{"answers malformed", func(r *Record) { r.Answers = json.RawMessage(`{"a":`) }, "answers: must be a JSON object"},
		{"answers two objects", func(r *Record) { r.Answers = json.RawMessage(`{} {}`) }, "answers: must be a JSON object"},
		{"answers a string", func(r *Record) { r.Answers = json.RawMessage(`"{}"`) }, "answers: must be a JSON object"},
		{"answers empty", func(r *Record) { r.Answers = json.RawMessage(``) }, "answers: must be a JSON object"},
		{"answers blank", func(r *Record) { r.Answers = json.RawMessage(" \n") }, "answers: must be a JSON object"},
		{"answers with white space", func(r *Record) { r.Answers = json.RawMessage(" \n{\"a\": [1, {}]}\t") }, ""},
		{"answers NUL", func(r *Record) { r.Answers = json.RawMessage(`{"a":"x\\\\\u0000"}`) }, "answers: contains a NUL"},
		{"answers invalid UTF-8", func(r *Record) { r.Answers = json.RawMessage("{\"a\":\"\xff\"}") }, "answers: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			err := r.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestHasNULEscape(t *testing.T) {
	for in, want := range map[string]bool{
		`{"a":"\u0000"}`:    true,
		`{"a":"x\\\u0000"}`: true,
		`{"a":"\\u0000"}`:   false,
		`{"\u0001":1}`:      false,
		`{"a":"\u00"}`:      false,
		`{}`:                false,
	} {
		if got := hasNULEscape([]byte(in)); got != want {
			t.Errorf("hasNULEscape(%s) = %v, want %v", in, got, want)
		}
	}
}
