package dashboard

import (
	"net/http"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	const token = "s3cret-t0ken-0123456789"
	tests := []struct {
		name, token, target, auth string
		wantStatus                int
		wantChallenge             string // a part of WWW-Authenticate on 401
	}{
		{"off", "", "/api/v1/responses", "", 200, ""},
		{"off ignores a header", "", "/api/v1/reporter", "Bearer whatever", 200, ""},
		{"right", token, "/api/v1/responses", "Bearer " + token, 200, ""},
		{"scheme is case-insensitive", token, "/api/v1/stats", "bearer " + token, 200, ""},
		{"missing", token, "/api/v1/responses", "", 401, `Bearer realm="xii-dashboard"`},
		{"wrong", token, "/api/v1/reporter", "Bearer " + token + "x", 401, `error="invalid_token"`},
		{"prefix of the token", token, "/api/v1/stats", "Bearer " + token[:5], 401, `error="invalid_token"`},
		{"other scheme", token, "/api/v1/responses", "Basic " + token, 401, `Bearer realm="xii-dashboard"`},
		{"checked before parameters", token, "/api/v1/responses?limit=nope", "", 401, `Bearer realm`},
		{"parameters checked after", token, "/api/v1/responses?limit=nope", "Bearer " + token, 400, ""},
		{"unknown routes need none", token, "/nope", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header http.Header
			if tt.auth != "" {
				header = http.Header{"Authorization": {tt.auth}}
			}
			a := serve(t, newHandler(&stubAggregator{}, HTTPOptions{Token: tt.token}), "GET", tt.target, header)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.wantStatus, a.body)
			}
			challenge := a.header.Get("WWW-Authenticate")
			if tt.wantStatus == 401 {
				if !strings.Contains(challenge, tt.wantChallenge) || !strings.Contains(string(a.body), `"code":"unauthorized"`) {
					t.Fatalf("WWW-Authenticate %q body %s; want %s", challenge, a.body, tt.wantChallenge)
				}
				if strings.Contains(string(a.body), token) {
					t.Fatal("the token leaked into the answer")
				}
			} else if challenge != "" {
				t.Fatalf("WWW-Authenticate %q on %d", challenge, a.status)
			}
		})
	}
}
