package observability

import "net/url"

// RedactURL returns s fit for logs: a password in the user info or in a
// password query parameter (as PostgreSQL URLs allow) is masked.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
