package postgres

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"xii/survey-svc/survey"
)

func TestCreateExportRoundTrip(t *testing.T) {
	s := openStore(t)
	in := []survey.NewResponse{
		{Survey: "default", Text: "request: 01 to blue survey", Device: "x", Location: "y"},
		{Survey: "nps", Text: "Größe ✓", Device: "iOS", Location: "Germany",
			Answers: json.RawMessage(`{"score":9,"tags":["fast","cheap"],"nested":{"a":null}}`)},
		{Survey: strings.Repeat("s", survey.MaxSurveyLen), Text: strings.Repeat("ü", survey.MaxTextLen),
			Device: strings.Repeat("d", survey.MaxDeviceLen), Location: strings.Repeat("ł", survey.MaxLocationLen),
			Answers: json.RawMessage(`{}`)},
	}

	before := time.Now().Add(-time.Minute) // tolerate clock skew between the test and the server
	var created []survey.Response
	for i, r := range in {
		got, err := s.Create(t.Context(), r)
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		if got.ID <= 0 || got.CreatedAt.Before(before) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("create %d: id %d, created_at %v: want a positive id and a recent UTC time", i, got.ID, got.CreatedAt)
		}
		if i > 0 && got.ID <= created[i-1].ID {
			t.Errorf("create %d: id %d not after %d", i, got.ID, created[i-1].ID)
		}
		created = append(created, got)
	}

	pages := sweep(t, s, survey.Cursor{}, survey.MaxExportLimit, survey.Filter{})
	var out []survey.Response
	for _, p := range pages {
		out = append(out, p.Responses...)
	}
	if len(out) != len(created) {
		t.Fatalf("exported %d responses, want %d", len(out), len(created))
	}
	for i, want := range created {
		got := out[i]
		if !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("response %d: created_at %v, want %v in UTC", i, got.CreatedAt, want.CreatedAt)
		}
		if !sameJSON(t, got.Answers, want.Answers) {
			t.Errorf("response %d: answers %s, want %s", i, got.Answers, want.Answers)
		}
		got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
		got.Answers, want.Answers = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("response %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// sameJSON reports whether a and b hold equal JSON values (jsonb normalises
// spacing and key order), or are both absent.
func sameJSON(tb testing.TB, a, b json.RawMessage) bool {
	tb.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		tb.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		tb.Fatalf("unmarshal %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// TestCreateRefusesWhatTheDomainRefuses stores values that skipped
// validation: the schema must turn each away as survey.ErrInvalid.
func TestCreateRefusesWhatTheDomainRefuses(t *testing.T) {
	s := openStore(t)
	valid := response(0)
	for _, tc := range []struct {
		name   string
		modify func(*survey.NewResponse)
	}{
		{"empty survey", func(r *survey.NewResponse) { r.Survey = "" }},
		{"empty text", func(r *survey.NewResponse) { r.Text = "" }},
		{"empty device", func(r *survey.NewResponse) { r.Device = "" }},
		{"empty location", func(r *survey.NewResponse) { r.Location = "" }},
		{"long survey", func(r *survey.NewResponse) { r.Survey = strings.Repeat("s", survey.MaxSurveyLen+1) }},
		{"long text", func(r *survey.NewResponse) { r.Text = strings.Repeat("ü", survey.MaxTextLen+1) }},
		{"long device", func(r *survey.NewResponse) { r.Device = strings.Repeat("d", survey.MaxDeviceLen+1) }},
		{"long location", func(r *survey.NewResponse) { r.Location = strings.Repeat("l", survey.MaxLocationLen+1) }},
		{"invalid UTF-8", func(r *survey.NewResponse) { r.Text = "bad \xff byte" }},
		{"NUL", func(r *survey.NewResponse) { r.Text = "a\x00b" }},
		{"answers not JSON", func(r *survey.NewResponse) { r.Answers = json.RawMessage(`{"a":`) }},
		{"answers not an object", func(r *survey.NewResponse) { r.Answers = json.RawMessage(`[1,2]`) }},
		{"answers too large", func(r *survey.NewResponse) {
			r.Answers = json.RawMessage(`{"a":"` + strings.Repeat("x", 2*survey.MaxAnswersSize) + `"}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid
			tc.modify(&r)
			_, err := s.Create(t.Context(), r)
			if !errors.Is(err, survey.ErrInvalid) {
				t.Fatalf("create: %v, want an error wrapping survey.ErrInvalid", err)
			}
			t.Logf("error: %v", err)
		})
	}

	pages := sweep(t, s, survey.Cursor{}, survey.MaxExportLimit, survey.Filter{})
	if got := ids(pages...); len(got) != 0 {
		t.Errorf("refused responses were stored: ids %v", got)
	}
}
