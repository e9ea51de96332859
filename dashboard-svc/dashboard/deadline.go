package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"xii/libs/xiiapi"
)

// RequestTimeoutHeader lets a caller ask for a deadline, as a Go duration
// ("1500ms"); the timeout parameter wins over it.
const RequestTimeoutHeader = xiiapi.RequestTimeoutHeader

// Request deadline defaults.
const (
	DefaultTimeout = 2 * time.Second
	MaxTimeout     = 10 * time.Second
	// MinTimeout is the shortest deadline a request may ask for: enough
	// for the aggregator to try, and to answer "incomplete" if it cannot
	// sync in time, rather than a bare timeout.
	MinTimeout = 50 * time.Millisecond
	// UpstreamMaxTimeout is the longest deadline the aggregator accepts; a
	// dashboard's maximum may not exceed it.
	UpstreamMaxTimeout = 30 * time.Second
	// UpstreamMinTimeout is the shortest deadline the aggregator accepts;
	// with less time left a call is not made.
	UpstreamMinTimeout = 10 * time.Millisecond
)

// Deadlines bound a request's deadline: Default when the caller asks for
// none, at most Max.
type Deadlines struct {
	Default time.Duration
	Max     time.Duration
}

// withDefaults fills zero fields.
func (d Deadlines) withDefaults() Deadlines {
	if d.Max <= 0 {
		d.Max = max(MaxTimeout, d.Default)
	}
	if d.Default <= 0 {
		d.Default = min(DefaultTimeout, d.Max)
	}
	return d
}

// Validate checks that MinTimeout <= Default <= Max <= UpstreamMaxTimeout.
func (d Deadlines) Validate() error {
	switch {
	case d.Default < MinTimeout:
		return fmt.Errorf("default timeout %s: shorter than the minimum %s", d.Default, MinTimeout)
	case d.Max < d.Default:
		return fmt.Errorf("max timeout %s: shorter than the default %s", d.Max, d.Default)
	case d.Max > UpstreamMaxTimeout:
		return fmt.Errorf("max timeout %s: longer than the aggregator's %s", d.Max, UpstreamMaxTimeout)
	}
	return nil
}

// ParseTimeout reads the requested deadline from the timeout parameter or,
// failing that, the Request-Timeout header. Errors wrap ErrInvalid and name
// where the bad value came from.
func (d Deadlines) ParseTimeout(v url.Values, header string) (time.Duration, error) {
	name, s := "timeout", v.Get("timeout")
	if !v.Has("timeout") {
		name, s = RequestTimeoutHeader, header
		if s == "" {
			return d.Default, nil
		}
	}
	t, err := time.ParseDuration(s)
	if err != nil || t <= 0 {
		return 0, invalidf("%s: must be a positive duration such as 1500ms", name)
	}
	if t < MinTimeout {
		return 0, invalidf("%s: %s is shorter than the minimum %s", name, t, MinTimeout)
	}
	if t > d.Max {
		return 0, invalidf("%s: %s is longer than the maximum %s", name, t, d.Max)
	}
	return t, nil
}

// withDeadline checks the query's parameter names and runs next under the
// requested deadline. The deadline covers the whole request and reaches
// the aggregator through the context; a client that disconnects cancels
// the same context.
func withDeadline(d Deadlines, known []string, fail func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values, err := ParseValues(r.URL.RawQuery, known)
		if err != nil {
			fail(w, r, err)
			return
		}
		timeout, err := d.ParseTimeout(values, r.Header.Get(RequestTimeoutHeader))
		if err != nil {
			fail(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
