package provider

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/metric"
	"golang.org/x/time/rate"

	"xii/libs/discovery"
)

// DefaultMaxPageBytes bounds a page's body when Options.MaxPageBytes is 0.
// A full xii-v1 page of 1000 records at the field limits stays below it.
const DefaultMaxPageBytes = 32 << 20

// ErrInvalidDescriptor wraps every reason New refuses a descriptor.
var ErrInvalidDescriptor = errors.New("invalid provider descriptor")

// Descriptor says where a provider is and which dialect it speaks: the
// JSON value stored under /xii/providers/<name> in etcd.
type Descriptor = discovery.Descriptor

// Options are what the aggregator adds to a descriptor: credentials and
// plumbing never come from etcd.
type Options struct {
	// HTTPClient sends the requests; nil means a client of the adapter's
	// own. Its Timeout may stay zero: every fetch is bounded by its context.
	// For the alchemer dialect its transport must include
	// QueryAuthTransport (below any tracing), which adds the credential to
	// the URL; a fetch through a client without it fails.
	HTTPClient *http.Client
	// Credential, when it has a token, is sent as "Authorization: Bearer
	// <token>" (alchemer: as api_token and api_token_secret), and only to the URL it is bound to: New refuses a
	// descriptor pointing elsewhere. It comes from the aggregator's
	// configuration and never appears in an error.
	Credential Credential
	// MaxPageBytes bounds a page's body; 0 means DefaultMaxPageBytes.
	MaxPageBytes int64
	// Now is the clock the rate limiter reads; nil means time.Now.
	Now func() time.Time
	// Limiter paces typeform and alchemer requests. Both limit requests
	// per token (account), so sources sharing a token should share a
	// limiter; nil gives the source its own from NewTypeformLimiter or
	// NewAlchemerLimiter.
	Limiter *rate.Limiter
	// Logger receives what a provider's answers warn of (Alchemer's
	// X-SG-Warning), at most once a minute; nil discards it.
	Logger *slog.Logger
	// MeterProvider counts those warnings and cached answers; nil counts
	// nothing.
	MeterProvider metric.MeterProvider
}

// New returns the Source that fetches from the provider called name, as
// described by d. Errors wrap ErrInvalidDescriptor.
func New(name string, d Descriptor, opts Options) (Source, error) {
	if name == "" {
		return nil, fmt.Errorf("new source: %w: empty provider name", ErrInvalidDescriptor)
	}
	u, err := parseURL(d)
	if err != nil {
		return nil, fmt.Errorf("new source %s: %w", name, err)
	}
	if opts.Credential.Token != "" {
		if err := opts.Credential.allows(u); err != nil {
			return nil, fmt.Errorf("new source %s: %w", name, err)
		}
	}
	if d.Dialect == DialectAlchemer && opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: QueryAuthTransport(http.DefaultTransport)}
	}
	opts = opts.withDefaults()
	switch d.Dialect {
	case DialectXII:
		return newXII(name, u, opts), nil
	case DialectTypeform:
		s, err := newTypeform(name, u, opts)
		if err != nil {
			return nil, fmt.Errorf("new source %s: %w", name, err)
		}
		return s, nil
	case DialectAlchemer:
		s, err := newAlchemer(name, u, opts)
		if err != nil {
			return nil, fmt.Errorf("new source %s: %w", name, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("new source %s: %w: unknown dialect %q", name, ErrInvalidDescriptor, d.Dialect)
}

// parseURL checks d.URL: absolute http(s), without credentials, query or
// fragment. Credentials belong in Options.Credential, where they stay
// secret.
func parseURL(d Descriptor) (*url.URL, error) {
	u, err := url.Parse(d.URL)
	switch {
	case d.URL == "":
		return nil, fmt.Errorf("%w: url: required", ErrInvalidDescriptor)
	case err != nil:
		return nil, fmt.Errorf("%w: url: malformed", ErrInvalidDescriptor)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: url: scheme must be http or https", ErrInvalidDescriptor)
	case u.Host == "":
		return nil, fmt.Errorf("%w: url: host required", ErrInvalidDescriptor)
	case u.User != nil:
		return nil, fmt.Errorf("%w: url: must not carry credentials", ErrInvalidDescriptor)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%w: url: must not have a query or fragment", ErrInvalidDescriptor)
	}
	return u, nil
}

func (o Options) withDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.MaxPageBytes <= 0 {
		o.MaxPageBytes = DefaultMaxPageBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
