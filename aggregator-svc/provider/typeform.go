package provider

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// TypeformRate is the request rate Typeform allows per access token.
const TypeformRate = rate.Limit(2)

// NewTypeformLimiter returns a limiter at TypeformRate without bursts, so
// requests go at least 500ms apart. Sources that use the same token should
// share one.
func NewTypeformLimiter() *rate.Limiter { return rate.NewLimiter(TypeformRate, 1) }

// formIDPattern is what a Typeform form id looks like (e.g. "u6nXL7").
var formIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// typeformSource speaks the Typeform Responses API for one form; its
// descriptor URL is the form's, e.g. https://api.typeform.com/forms/u6nXL7:
//
//	GET {url}/responses?page_size=N&sort=submitted_at,asc   the first page
//	GET {url}/responses?page_size=N&after=TOKEN             every later one
//	200 {"total_items":..,"page_count":..,"items":[{"token":..,"submitted_at":..,..}]}
//
// Typeform sorts by submission time, newest first, unless told otherwise,
// and answers after= in the order it processed the responses, oldest first
// (it refuses after= together with sort=). So the first page asks for the
// oldest responses and every later one for those after the last token
// seen: one pass over the form in processing order, without repeats.
//
// Request.Rescan means nothing here. Typeform documents that after= walks
// the responses in the order it processed them, so that a traversal sees
// every response once; a token therefore does not run ahead of a response
// that becomes visible later, as survey-svc's scan position can, and there
// is no earlier final position to restart from.
//
// Typeform documents more fields than are mapped here and adds new ones,
// so unknown fields are ignored; the ones read must have their documented
// types.
type typeformSource struct {
	name     string
	formID   string
	endpoint *url.URL
	http     httpClient
	limiter  *rate.Limiter
	now      func() time.Time
}

var _ Source = (*typeformSource)(nil)

func newTypeform(name string, form *url.URL, opts Options) (*typeformSource, error) {
	segs := strings.Split(strings.TrimSuffix(form.EscapedPath(), "/"), "/")
	if len(segs) < 2 || segs[len(segs)-2] != "forms" || !formIDPattern.MatchString(segs[len(segs)-1]) {
		return nil, fmt.Errorf("%w: url: want a typeform form url ending in /forms/{form_id}", ErrInvalidDescriptor)
	}
	if opts.Credential.Token == "" {
		return nil, fmt.Errorf("%w: typeform needs an access token", ErrInvalidDescriptor)
	}
	if opts.Limiter == nil {
		opts.Limiter = NewTypeformLimiter()
	}
	return &typeformSource{
		name:     name,
		formID:   segs[len(segs)-1],
		endpoint: form.JoinPath("responses"),
		http:     httpClient{client: opts.HTTPClient, token: opts.Credential.Token, maxBody: opts.MaxPageBytes},
		limiter:  opts.Limiter,
		now:      opts.Now,
	}, nil
}

// Fetch returns the page of responses after the token req.Cursor. HasMore
// reports a full page: Typeform's counts describe the whole form, not what
// is left after a token, so a form whose responses fill the last page
// exactly costs one more, empty, request. Errors: ErrUnauthorized,
// ErrRateLimited (also when the limiter's next slot comes after ctx's
// deadline), ErrRejected, ErrBadPage, ErrUnavailable, or ctx's error.
func (s *typeformSource) Fetch(ctx context.Context, req Request) (Page, error) {
	page, err := s.fetch(ctx, req)
	if err != nil {
		return Page{}, redact(fmt.Errorf("fetch page from %s: %w", s.name, err), s.http.token)
	}
	return page, nil
}

func (s *typeformSource) fetch(ctx context.Context, req Request) (Page, error) {
	size := pageSize(req.Limit)
	q := url.Values{"page_size": {strconv.Itoa(size)}}
	if req.Cursor == "" {
		q.Set("sort", "submitted_at,asc")
	} else {
		q.Set("after", req.Cursor)
	}
	u := *s.endpoint
	u.RawQuery = q.Encode()

	if err := s.wait(ctx); err != nil {
		return Page{}, err
	}
	var body typeformPage
	if err := s.http.getJSON(ctx, &u, func(r io.Reader) error { return decodeJSON(r, &body, false) }); err != nil {
		return Page{}, err
	}
	page, err := body.page(s.formID, req.Cursor, size)
	if err != nil {
		return Page{}, err
	}
	return checkPage(page, req.Cursor, false)
}

// wait takes the next request slot and sleeps until it is due.
func (s *typeformSource) wait(ctx context.Context) error {
	delay, cancel, err := s.reserve(ctx)
	if err != nil || delay == 0 {
		return err
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		cancel()
		return ctx.Err()
	}
}

// reserve takes the next request slot from the limiter and returns how
// long until it is due, and how to give it back. A slot due only after
// ctx's deadline is given back at once with ErrRateLimited: sleeping
// towards it could only end in a timeout.
func (s *typeformSource) reserve(ctx context.Context) (time.Duration, func(), error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	now := s.now()
	r := s.limiter.ReserveN(now, 1)
	if !r.OK() {
		return 0, nil, fmt.Errorf("%w: the limiter allows no requests", ErrRateLimited)
	}
	delay := r.DelayFrom(now)
	cancel := func() { r.CancelAt(s.now()) }
	if deadline, ok := ctx.Deadline(); ok && delay > time.Until(deadline) {
		cancel()
		return 0, nil, fmt.Errorf("%w: next request slot in %v, after the deadline", ErrRateLimited, delay.Round(time.Millisecond))
	}
	return delay, cancel, nil
}
