package httpserver

import "testing"

func TestBearerToken(t *testing.T) {
	for _, tt := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer s3cret", "s3cret", true},
		{"bearer s3cret", "s3cret", true},
		{"BEARER s3cret", "s3cret", true},
		{"Basic s3cret", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"", "", false},
	} {
		if token, ok := BearerToken(tt.header); token != tt.token || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, token, ok, tt.token, tt.ok)
		}
	}
	match := TokenMatcher("s3cret")
	if !match("s3cret") || match("s3cre") || match("S3CRET") || match("") {
		t.Error("TokenMatcher matches only the token itself")
	}
}
