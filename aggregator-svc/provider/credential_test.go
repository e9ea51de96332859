package provider

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParseCredential(t *testing.T) {
	for _, tt := range []struct{ in, bound, wantErr string }{
		{"https://api.typeform.com@tfp_abc", "https://api.typeform.com", ""},
		{"https://api.typeform.com/forms/abc/@tfp_a@b", "https://api.typeform.com/forms/abc", ""},
		{"http://survey-blue:1101@s3cret", "http://survey-blue:1101", ""},
		// Alchemer's token and secret: the credential is "token:secret".
		{"https://api.alchemer.com/v5/survey/123@tok:sec", "https://api.alchemer.com/v5/survey/123", ""},
		{"tfp_abc", "", "not <url>@<token>"},
		{"https://api.typeform.com@", "", "not <url>@<token>"},
		{"api.typeform.com@tfp", "", "not an absolute http(s) URL"},
		{"ftp://x@tfp", "", "not an absolute http(s) URL"},
		{"https://x/?a=1@tfp", "", "without query"},
	} {
		c, err := ParseCredential(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || c.Bound.String() != tt.bound):
			t.Errorf("ParseCredential(%q) = %v, %v; want bound to %s", tt.in, c, err, tt.bound)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseCredential(%q): %v, want an error with %q", tt.in, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "tfp"):
			t.Errorf("ParseCredential(%q): the error %q shows the token", tt.in, err)
		case err == nil && (strings.Contains(c.String(), "tok") || strings.Contains(c.String(), "sec")):
			t.Errorf("ParseCredential(%q).String() = %q shows the token", tt.in, c)
		}
	}
}

// TestCredentialGoesOnlyWhereBound: a descriptor written to etcd that
// points a provider somewhere else gets no credential and is refused (the
// provider is then misconfigured); before, whoever wrote the descriptor
// received the provider's token.
func TestCredentialGoesOnlyWhereBound(t *testing.T) {
	var leaked atomic.Bool
	attacker := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
	}))
	cred, err := ParseCredential("https://api.typeform.com/forms/u6nXL7@" + testToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Descriptor{
		{URL: attacker.URL + "/forms/u6nXL7", Dialect: DialectTypeform},
		{URL: "http://api.typeform.com/forms/u6nXL7", Dialect: DialectTypeform},       // another scheme
		{URL: "https://api.typeform.com:8443/forms/u6nXL7", Dialect: DialectTypeform}, // another port
		{URL: "https://api.typeform.com/forms/other", Dialect: DialectTypeform},       // another form
		{URL: attacker.URL, Dialect: DialectXII},
	} {
		_, err := New("acme", d, Options{Credential: cred, HTTPClient: attacker.Client()})
		if !errors.Is(err, ErrInvalidDescriptor) || !strings.Contains(err.Error(), "bound to https://api.typeform.com/forms/u6nXL7") {
			t.Errorf("%s: New = %v, want it refused, naming the bound URL", d.URL, err)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: the error shows the token", d.URL)
		}
	}
	for _, ok := range []string{"https://api.typeform.com/forms/u6nXL7", "https://API.typeform.com:443/forms/u6nXL7/"} {
		if _, err := New("acme", Descriptor{URL: ok, Dialect: DialectTypeform}, Options{Credential: cred}); err != nil {
			t.Errorf("%s: New = %v, want the bound URL accepted", ok, err)
		}
	}
	if leaked.Load() {
		t.Error("the token reached a server it was not bound to")
	}
}
