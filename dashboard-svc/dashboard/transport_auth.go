package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// errUnauthorized is returned when the API token is missing or wrong.
var errUnauthorized = errors.New("missing or wrong bearer token")

// authRealm names the protection space in WWW-Authenticate.
const authRealm = "xii-dashboard"

// requireToken guards next with a bearer token when token is set. The
// comparison takes the same time whatever the token sent: both sides are
// hashed first, so not even the length leaks.
func requireToken(token string, fail func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, ok := bearer(r.Header.Get("Authorization"))
		got := sha256.Sum256([]byte(sent))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok {
			challenge := `Bearer realm="` + authRealm + `"`
			if ok {
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			fail(w, r, errUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 9110).
func bearer(header string) (string, bool) {
	scheme, token, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
