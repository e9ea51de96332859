package httpserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header value; the scheme is case-insensitive (RFC 9110), the token is
// not. Every xii API reads the header this way.
func BearerToken(header string) (string, bool) {
	scheme, token, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// TokenMatcher reports whether a sent token is want, in a time that does
// not depend on the sent token: both sides are hashed first, so not even
// the length leaks.
func TokenMatcher(want string) func(sent string) bool {
	w := sha256.Sum256([]byte(want))
	return func(sent string) bool {
		s := sha256.Sum256([]byte(sent))
		return subtle.ConstantTimeCompare(s[:], w[:]) == 1
	}
}
