package provider

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Credential is a provider's token and where it may be sent: anyone who
// can write to etcd can point a provider's descriptor anywhere, so a token
// follows the descriptor only to the origin it was configured for.
type Credential struct {
	// Token is sent as "Authorization: Bearer <token>" (by the alchemer
	// dialect, "<api_token>:<api_token_secret>", as two query parameters
	// instead; see QueryAuthTransport). It never appears in an error, a log
	// line or a span.
	Token string
	// Bound is the URL the token belongs to: its scheme, host and port
	// must be the descriptor's, and its path, when it has one, a prefix of
	// the descriptor's path (a Typeform form, say).
	Bound *url.URL
}

// ParseCredential reads "<url>@<token>", such as
// "https://api.typeform.com/forms/abc@tfp_..."; the URL holds no
// credentials, query or fragment, so the first '@' ends it. An Alchemer
// survey's token is "<api_token>:<api_token_secret>", which the alchemer
// adapter splits at its first ':'. Errors never hold the token.
func ParseCredential(s string) (Credential, error) {
	bound, token, ok := strings.Cut(s, "@")
	if !ok || token == "" {
		return Credential{}, errors.New("not <url>@<token>: a token is bound to the URL it may be sent to")
	}
	u, err := url.Parse(bound)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return Credential{}, fmt.Errorf("bound to %q: not an absolute http(s) URL", bound)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return Credential{}, fmt.Errorf("bound to %q: a URL without query or fragment", bound)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return Credential{Token: token, Bound: u}, nil
}

// String is the credential with its token masked, for logs.
func (c Credential) String() string {
	if c.Bound == nil {
		return "none"
	}
	return c.Bound.String() + "@***"
}

// allows reports why c may not be sent to u, or nil when it may.
func (c Credential) allows(u *url.URL) error {
	b := c.Bound
	if b == nil {
		return errors.New("the credential is bound to no URL")
	}
	samePath := b.Path == "" || u.Path == b.Path || strings.HasPrefix(u.Path, b.Path+"/")
	if !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Hostname(), b.Hostname()) || port(u) != port(b) || !samePath {
		return fmt.Errorf("%w: url: the provider's credential is bound to %s, not to this URL; "+
			"change the descriptor back, or bind the credential anew in the aggregator's configuration", ErrInvalidDescriptor, b.Redacted())
	}
	return nil
}

// port is u's port, the scheme's default when it names none.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
