package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
)

// queryAuth is a credential that travels in the query string (Alchemer's
// api_token and api_token_secret). It rides in the request's context, not
// in its URL, and QueryAuthTransport adds it to the URL last, below the
// tracing transport: what records URLs (spans, logs, errors of the
// client) never sees it.
type queryAuth struct {
	params [][2]string // name, secret value
	bound  Credential  // where it may be sent
	sent   atomic.Bool // set once a request carried it
}

type queryAuthKey struct{}

func withQueryAuth(ctx context.Context, qa *queryAuth) context.Context {
	return context.WithValue(ctx, queryAuthKey{}, qa)
}

// QueryAuthTransport adds the query-string credential a request's context
// carries, if any, to the request as it leaves, and only when the request
// goes to the URL the credential is bound to (a redirect elsewhere gets an
// error, not the secret). Put it below anything that records URLs: the
// request it passes on, and nothing else, holds the secret. Its errors and
// answers never do.
func QueryAuthTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return queryAuthTransport{base: base}
}

type queryAuthTransport struct{ base http.RoundTripper }

func (t queryAuthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	qa, _ := req.Context().Value(queryAuthKey{}).(*queryAuth)
	if qa == nil {
		return t.base.RoundTrip(req)
	}
	if err := qa.bound.allows(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("query credential not sent: the request leaves the URL it is bound to")
	}
	out := req.Clone(req.Context())
	q := out.URL.RawQuery
	for _, p := range qa.params {
		if q != "" {
			q += "&"
		}
		q += url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1])
	}
	out.URL.RawQuery = q
	qa.sent.Store(true)
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, qa.redact(err)
	}
	// The answer points back at the request it answers: ours, without the
	// secret.
	resp.Request = req
	return resp, nil
}

// redact hides the secrets in err's message (in the clear and as they
// appear in a URL).
func (qa *queryAuth) redact(err error) error {
	for _, p := range qa.params {
		for _, s := range []string{p[1], url.QueryEscape(p[1])} {
			err = redact(err, s)
		}
	}
	return err
}
