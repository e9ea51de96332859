package discovery_test

import (
	"strings"
	"testing"

	"xii/libs/discovery"
)

func TestDescriptorValidate(t *testing.T) {
	cases := []struct {
		name    string
		d       discovery.Descriptor
		wantErr string // empty when valid
	}{
		{"survey-svc", discovery.Descriptor{URL: "http://127.0.0.1:1101", Dialect: "xii-v1"}, ""},
		{"typeform", discovery.Descriptor{URL: "https://api.typeform.com/forms/abc/responses", Dialect: "typeform"}, ""},
		{"alchemer", discovery.Descriptor{URL: "https://api.alchemer.com/v5/survey/123456", Dialect: "alchemer"}, ""},
		{"upper-case scheme", discovery.Descriptor{URL: "HTTPS://example.com", Dialect: "xii-v1"}, ""},
		{"empty url", discovery.Descriptor{Dialect: "xii-v1"}, "url: empty"},
		{"relative url", discovery.Descriptor{URL: "/api/v1/responses", Dialect: "xii-v1"}, "absolute"},
		{"no scheme", discovery.Descriptor{URL: "example.com:1101", Dialect: "xii-v1"}, "url"},
		{"other scheme", discovery.Descriptor{URL: "ftp://example.com", Dialect: "xii-v1"}, "absolute http or https"},
		{"no host", discovery.Descriptor{URL: "http:///path", Dialect: "xii-v1"}, "no host"},
		{"port only", discovery.Descriptor{URL: "http://:1101", Dialect: "xii-v1"}, "no host"},
		{"credentials", discovery.Descriptor{URL: "https://user:secret@example.com", Dialect: "typeform"}, "credentials"},
		{"not a url", discovery.Descriptor{URL: "http://exa mple.com/%zz", Dialect: "xii-v1"}, "not a valid URL"},
		{"too long", discovery.Descriptor{URL: "http://example.com/" + strings.Repeat("a", 2048), Dialect: "xii-v1"}, "longer"},
		{"empty dialect", discovery.Descriptor{URL: "http://example.com"}, "dialect: empty"},
		{"unknown dialect", discovery.Descriptor{URL: "http://example.com", Dialect: "surveygizmo"}, "unknown"},
		{"dialect case", discovery.Descriptor{URL: "http://example.com", Dialect: "Typeform"}, "unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("Validate() = nil, want an error with %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("Validate() = %v, want an error with %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q repeats the credentials", err)
			}
		})
	}
}

func TestDescriptorEncodeParse(t *testing.T) {
	d := discovery.Descriptor{URL: "http://127.0.0.1:1101", Dialect: discovery.DialectXII}
	value, err := d.Encode()
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if want := `{"url":"http://127.0.0.1:1101","dialect":"xii-v1"}`; value != want {
		t.Errorf("encoded %s, want %s", value, want)
	}
	got, err := discovery.ParseDescriptor([]byte(value))
	if err != nil || got != d {
		t.Errorf("parse = %+v, %v; want %+v", got, err, d)
	}

	if _, err := (discovery.Descriptor{URL: "nope", Dialect: "xii-v1"}).Encode(); err == nil {
		t.Error("encoded an invalid descriptor")
	}
	bad := []string{``, `[]`, `{"url":1}`, `{"url":"http://x"}`, `{"url":"http://x","dialect":"nope"}`}
	for _, v := range bad {
		if _, err := discovery.ParseDescriptor([]byte(v)); err == nil {
			t.Errorf("parsed %s", v)
		}
	}
	newer := `{"url":"http://x","dialect":"typeform","weight":3}`
	if _, err := discovery.ParseDescriptor([]byte(newer)); err != nil {
		t.Errorf("unknown field rejected: %v", err)
	}
}

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"blue", true},
		{"survey-red_2.eu", true},
		{"A", true},
		{strings.Repeat("a", discovery.MaxNameLen), true},
		{"", false},
		{strings.Repeat("a", discovery.MaxNameLen+1), false},
		{"blue/green", false},
		{"..", false},
		{".hidden", false},
		{"with space", false},
		{"tab\t", false},
		{"bläu", false},
		{"a:b", false},
	}
	for _, tc := range cases {
		if err := discovery.ValidateName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestNameFromKey(t *testing.T) {
	cases := []struct {
		key, want string
		ok        bool
	}{
		{discovery.ProviderKey("blue"), "blue", true},
		{"/xii/providers/", "", false},
		{"/xii/providers/a/b", "", false},
		{"/xii/services/blue", "", false},
		{"/xii/providersblue", "", false},
	}
	for _, tc := range cases {
		got, err := discovery.NameFromKey(discovery.ProvidersPrefix, tc.key)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NameFromKey(%q) = %q, %v; want %q, ok=%v", tc.key, got, err, tc.want, tc.ok)
		}
	}
	if got := discovery.ServiceKey("aggregator"); got != "/xii/services/aggregator" {
		t.Errorf("ServiceKey = %q", got)
	}
}
