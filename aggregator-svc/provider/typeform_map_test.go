package provider

import (
	"encoding/json"
	"strings"
	"testing"

	"xii/aggregator-svc/aggregate"
)

func TestDeviceOf(t *testing.T) {
	tests := []struct{ ua, platform, want string }{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "mobile", "iOS"},
		{"Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X)", "tablet", "iOS"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8)", "mobile", "Android"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "other", "web"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_6)", "other", "web"},
		{"SomePhone/1.0", "mobile", "mobile"},
		{"", "tablet", "mobile"},
		{"", " Other ", "web"},
		{"", "", "unknown"},
		{"", "Smart-TV", "smart-tv"},
		{"", strings.Repeat("p", aggregate.MaxDeviceLen+10), strings.Repeat("p", aggregate.MaxDeviceLen)},
	}
	for _, tt := range tests {
		if got := deviceOf(tt.ua, tt.platform); got != tt.want {
			t.Errorf("deviceOf(%q, %q) = %q, want %q", tt.ua, tt.platform, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  Berlin ", 10, "Berlin"},
		{"Ber\x00lin", 10, "Berlin"},
		{"Münchener", 3, "Mün"},
		{"abc", 3, "abc"},
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.max); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestMapAnswers(t *testing.T) {
	tests := []struct {
		name, answers     string
		wantObj, wantText string
		wantErr           bool
	}{
		{"none", `[]`, ``, ``, false},
		{"first text answer is the text",
			`[{"field":{"id":"a","type":"rating","ref":"r"},"type":"number","number":4},
			  {"field":{"id":"b","type":"long_text","ref":"why"},"type":"text","text":"fast"},
			  {"field":{"id":"c","type":"short_text","ref":"name"},"type":"text","text":"Lian"}]`,
			`{"name":"Lian","r":4,"why":"fast"}`, `fast`, false},
		{"without text, a summary",
			`[{"field":{"id":"a","type":"yes_no","ref":"ok"},"type":"boolean","boolean":true},
			  {"field":{"id":"b","type":"multiple_choice","ref":"color"},"type":"choice","choice":{"id":"x","label":"Blue","ref":"blue"}},
			  {"field":{"id":"c","type":"multiple_choice","ref":"tags"},"type":"choices","choices":{"ids":["1","2"],"labels":["A","B"],"other":"C"}},
			  {"field":{"id":"d","type":"number","ref":"n"},"type":"number","number":2.5}]`,
			`{"color":"Blue","n":2.5,"ok":true,"tags":["A","B","C"]}`, `yes; Blue; A, B, C; 2.5`, false},
		{"choice other", `[{"field":{"id":"a","type":"multiple_choice"},"type":"choice","choice":{"other":"Teal"}}]`,
			`{"a":"Teal"}`, `Teal`, false},
		{"keyed by id without ref", `[{"field":{"id":"SMEUb7VJz92Q","type":"email"},"type":"email","email":"l@example.com"}]`,
			`{"SMEUb7VJz92Q":"l@example.com"}`, `l@example.com`, false},
		{"unknown types pass through", `[{"field":{"id":"p","type":"payment"},"type":"payment","payment":{"amount":"1.00","success":true}}]`,
			`{"p":{"amount":"1.00","success":true}}`, ``, false},
		{"field without id or ref", `[{"field":{"type":"short_text"},"type":"text","text":"x"}]`, ``, ``, true},
		{"value missing", `[{"field":{"id":"a"},"type":"number"}]`, ``, ``, true},
		{"choices not an object", `[{"field":{"id":"a"},"type":"choices","choices":["A"]}]`, ``, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var list []map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.answers), &list); err != nil {
				t.Fatal(err)
			}
			obj, text, err := mapAnswers(list)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if string(obj) != tt.wantObj || text != tt.wantText {
				t.Errorf("mapAnswers = %s, %q; want %s, %q", obj, text, tt.wantObj, tt.wantText)
			}
		})
	}
}

func TestTypeformRecordDefaults(t *testing.T) {
	var it typeformResponse
	body := `{"token":"t1","submitted_at":"2026-02-01T09:00:00Z","hidden":{"location":7}}`
	if err := json.Unmarshal([]byte(body), &it); err != nil {
		t.Fatal(err)
	}
	r, err := it.record(testForm)
	if err != nil {
		t.Fatal(err)
	}
	if r.Location != "unknown" || r.Device != "unknown" || r.Answers != nil || r.Text != "" {
		t.Errorf("record = %+v, want unknown location and device, no answers, no text", r)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	it.Hidden["location"] = json.RawMessage(`"  ` + strings.Repeat("ü", aggregate.MaxLocationLen+5) + `"`)
	if r, _ := it.record(testForm); r.Location != strings.Repeat("ü", aggregate.MaxLocationLen) {
		t.Errorf("location = %q, want it cut to %d characters", r.Location, aggregate.MaxLocationLen)
	}
}
