package provider

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		d       Descriptor
		token   string
		wantErr string
	}{
		{"xii", Descriptor{URL: "http://survey-blue:1101", Dialect: DialectXII}, "", ""},
		{"xii with path", Descriptor{URL: "https://example.com/blue/", Dialect: DialectXII}, testToken, ""},
		{"typeform", Descriptor{URL: "https://api.typeform.com/forms/u6nXL7", Dialect: DialectTypeform}, testToken, ""},
		{"typeform eu", Descriptor{URL: "https://api.eu.typeform.com/forms/u6nXL7/", Dialect: DialectTypeform}, testToken, ""},
		{"no url", Descriptor{Dialect: DialectXII}, "", "url: required"},
		{"relative url", Descriptor{URL: "survey-blue:1101", Dialect: DialectXII}, "", "scheme must be http or https"},
		{"ftp", Descriptor{URL: "ftp://survey-blue", Dialect: DialectXII}, "", "scheme must be http or https"},
		{"no host", Descriptor{URL: "http:///x", Dialect: DialectXII}, "", "host required"},
		{"credentials in url", Descriptor{URL: "https://user:" + testToken + "@example.com", Dialect: DialectXII}, "", "must not carry credentials"},
		{"query", Descriptor{URL: "https://example.com/?token=" + testToken, Dialect: DialectXII}, "", "must not have a query"},
		{"fragment", Descriptor{URL: "https://example.com/#x", Dialect: DialectXII}, "", "must not have a query or fragment"},
		{"malformed", Descriptor{URL: "http://[::1", Dialect: DialectXII}, "", "url: malformed"},
		{"unknown dialect", Descriptor{URL: "https://example.com", Dialect: "surveymonkey"}, "", `unknown dialect "surveymonkey"`},
		{"no dialect", Descriptor{URL: "https://example.com"}, "", `unknown dialect ""`},
		{"typeform not a form", Descriptor{URL: "https://api.typeform.com/me", Dialect: DialectTypeform}, testToken, "ending in /forms/{form_id}"},
		{"typeform bad form id", Descriptor{URL: "https://api.typeform.com/forms/a%2Fb", Dialect: DialectTypeform}, testToken, "ending in /forms/{form_id}"},
		{"typeform without token", Descriptor{URL: "https://api.typeform.com/forms/u6nXL7", Dialect: DialectTypeform}, "", "needs an access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := New("acme", tt.d, Options{Credential: boundTo(t, tt.d.URL, tt.token)})
			if tt.wantErr == "" {
				if err != nil || src == nil {
					t.Fatalf("New = %v, %v", src, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidDescriptor) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: err = %v, want ErrInvalidDescriptor saying %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("err = %q quotes the token", err)
			}
		})
	}
	if _, err := New("", Descriptor{URL: "http://x", Dialect: DialectXII}, Options{}); !errors.Is(err, ErrInvalidDescriptor) {
		t.Errorf("New without a name: err = %v, want ErrInvalidDescriptor", err)
	}
}

func TestDescriptorJSON(t *testing.T) {
	var d Descriptor
	if err := json.Unmarshal([]byte(`{"url":"https://api.typeform.com/forms/u6nXL7","dialect":"typeform"}`), &d); err != nil {
		t.Fatal(err)
	}
	if d != (Descriptor{URL: "https://api.typeform.com/forms/u6nXL7", Dialect: DialectTypeform}) {
		t.Errorf("descriptor = %+v", d)
	}
}
