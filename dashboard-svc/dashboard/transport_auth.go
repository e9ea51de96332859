package dashboard

import (
	"errors"
	"net/http"

	"xii/libs/httpserver"
)

// errUnauthorized is returned when the API token is missing or wrong.
var errUnauthorized = errors.New("missing or wrong bearer token")

// authRealm names the protection space in WWW-Authenticate.
const authRealm = "xii-dashboard"

// requireToken guards next with a bearer token when token is set, compared
// in a time that does not depend on the token sent.
func requireToken(token string, fail func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	matches := httpserver.TokenMatcher(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, ok := httpserver.BearerToken(r.Header.Get("Authorization"))
		if !matches(sent) || !ok {
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
