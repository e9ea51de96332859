package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"golang.org/x/time/rate"

	"xii/libs/throttle"
)

// Alchemer's documented limits.
const (
	// AlchemerRate is the request rate Alchemer allows an account: 240 a
	// minute.
	AlchemerRate = rate.Limit(4)
	// AlchemerMaxPageSize is the largest resultsperpage Alchemer serves.
	AlchemerMaxPageSize = 500
	// alchemerRepeatWindow: an identical GET within it is answered from
	// Alchemer's cache, or refused with a 429 ("Please wait for other
	// requests to complete").
	alchemerRepeatWindow = 60 * time.Second
	// alchemerProcessing is how long a submitted response may take to
	// appear in the API.
	alchemerProcessing = 5 * time.Minute
	// alchemerOverlap is how far each round's walk reaches back before the
	// start of the last one: the processing delay, the cache's age and the
	// second the times are rounded to.
	alchemerOverlap = alchemerProcessing + alchemerRepeatWindow + 2*time.Second
	// maxAlchemerPage bounds a walk's page number.
	maxAlchemerPage = 100000
	// maxAlchemerRequests bounds the requests of one Fetch: pages of
	// responses already sent (or not stored: test data) are skipped
	// within a Fetch.
	maxAlchemerRequests = 20
	// maxAlchemerRetries bounds the 429s one request waits out.
	maxAlchemerRetries = 3
	// alchemerDefaultBackoff is the first wait after a 429 that names no
	// Retry-After; it doubles each time.
	alchemerDefaultBackoff = time.Second
	// maxAlchemerBlock bounds how long a 429 keeps the source from asking.
	maxAlchemerBlock = 2 * time.Minute
)

// NewAlchemerLimiter returns a limiter at AlchemerRate without bursts.
// Alchemer limits requests per account, so sources that use the same
// token should share one.
func NewAlchemerLimiter() *rate.Limiter { return rate.NewLimiter(AlchemerRate, 1) }

// alchemerPath is the path of an Alchemer v5 survey: /v5/survey/{id}.
var alchemerPath = regexp.MustCompile(`^/v5/survey/([0-9]{1,18})/?$`)

// alchemerSource speaks Alchemer's v5 SurveyResponse API for one survey;
// its descriptor URL is the survey's, e.g.
// https://api.alchemer.com/v5/survey/123456 (or api.alchemer.eu,
// api.alchemer-ca.com):
//
//	GET {url}/surveyresponse?page=K&resultsperpage=N&order_by=date_updated
//	    &filter[field][0]=date_updated&filter[operator][0]=>=&filter[value][0]=2026-03-08 01:59:59
//	    &api_token=..&api_token_secret=..
//	200 {"result_ok":true,"total_count":..,"page":K,"total_pages":..,"results_per_page":N,
//	     "data":[{"id":"7","status":"Complete","date_updated":"2026-03-08 01:59:59 EST",..}]}
//
// Alchemer pages by number over a result set that changes while it is
// paged: a response updated between two page requests moves to the end
// of date_updated order, and every response behind it moves up a place,
// so a walk page=1, 2, 3 skips one. The walk here therefore never keeps a
// page number across a change of position: after each page it continues
// from page 1 of "date_updated >= the page's last second" (a page number
// only counts pages within one second, when more than a page of
// responses share it). A response updated while we page gets a newer
// date_updated, so it is ahead of the walk, never behind it; the
// responses of the last second read are read again and recognised by
// their id and content hash (alchemerCursor.Seen).
//
// Responses may take minutes to become visible, and answers may come from
// a 60 s cache, so a response can appear behind the walk. Every round
// therefore starts alchemerOverlap before the server time at which the
// last round that sent something started; see docs/freshness.md for the
// argument that nothing visible is skipped.
//
// The credential is "token:secret": api_token and api_token_secret, sent
// in the query string by QueryAuthTransport and nowhere else.
type alchemerSource struct {
	name     string
	surveyID string
	endpoint *url.URL
	http     httpClient
	auth     Credential
	token    string
	secret   string
	limiter  *rate.Limiter
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	logger   *slog.Logger
	warnLog  *throttle.Throttle
	warnings metric.Int64Counter
	cached   metric.Int64Counter
	attrs    metric.MeasurementOption

	mu sync.Mutex
	// blockedUntil: after a 429, no request before it.
	blockedUntil time.Time
	// answers are the recent answers by request URL (without the
	// credential): an identical request within alchemerRepeatWindow is
	// answered from here, as Alchemer's cache would, without spending a
	// request or drawing its 429.
	answers map[string]alchemerAnswer
}

type alchemerAnswer struct {
	at     time.Time
	date   time.Time // the server's Date
	cached bool
	body   []byte
}

// maxAlchemerAnswers bounds the answers remembered per source.
const maxAlchemerAnswers = 8

var _ Source = (*alchemerSource)(nil)

func newAlchemer(name string, survey *url.URL, opts Options) (*alchemerSource, error) {
	m := alchemerPath.FindStringSubmatch(survey.EscapedPath())
	if m == nil {
		return nil, fmt.Errorf("%w: url: want an alchemer survey url ending in /v5/survey/{survey_id} (a number), e.g. https://api.alchemer.com/v5/survey/123456", ErrInvalidDescriptor)
	}
	if survey.Scheme != "https" && !isLoopback(survey.Hostname()) {
		return nil, fmt.Errorf("%w: url: alchemer's credentials travel in the query string: https required", ErrInvalidDescriptor)
	}
	token, secret, ok := strings.Cut(opts.Credential.Token, ":")
	if !ok || token == "" || secret == "" {
		return nil, fmt.Errorf("%w: alchemer needs an api token and its secret, configured as <url>@<token>:<secret>", ErrInvalidDescriptor)
	}
	if opts.Limiter == nil {
		opts.Limiter = NewAlchemerLimiter()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mp := opts.MeterProvider
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	meter := mp.Meter("xii/aggregator-svc/provider")
	warnings, err := meter.Int64Counter("xii.provider.rate_warnings",
		metric.WithDescription("Answers of a provider warning that its rate limit is near (Alchemer's X-SG-Warning), by provider."))
	if err != nil {
		return nil, err
	}
	cached, err := meter.Int64Counter("xii.provider.cached_answers",
		metric.WithDescription("Answers a provider served from its cache (Alchemer's X-SG-Cached), or that were reused within its repeat window, by provider."))
	if err != nil {
		return nil, err
	}
	s := &alchemerSource{
		name:     name,
		surveyID: m[1],
		endpoint: survey.JoinPath("surveyresponse"),
		// The token is not a bearer token here: no Authorization header.
		http:     httpClient{client: opts.HTTPClient, maxBody: opts.MaxPageBytes},
		auth:     opts.Credential,
		token:    token,
		secret:   secret,
		limiter:  opts.Limiter,
		now:      opts.Now,
		sleep:    sleepCtx,
		logger:   opts.Logger,
		warnLog:  throttle.New(time.Minute),
		warnings: warnings,
		cached:   cached,
		attrs:    metric.WithAttributes(attribute.String("provider", name)),
		answers:  map[string]alchemerAnswer{},
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fetch returns the next responses after req.Cursor; with req.Rescan (a
// round's first fetch) the walk restarts from the cursor's restart bound.
// HasMore reports that Alchemer has further pages. Errors:
// ErrUnauthorized, ErrRateLimited (also when the next request slot comes
// after ctx's deadline), ErrRejected, ErrBadPage, ErrUnavailable, or
// ctx's error. No error holds the token, the secret or a URL.
func (s *alchemerSource) Fetch(ctx context.Context, req Request) (Page, error) {
	page, err := s.fetch(ctx, req)
	if err != nil {
		err = fmt.Errorf("fetch page from %s: %w", s.name, err)
		return Page{}, redact(redact(redact(err, s.auth.Token), s.token), s.secret)
	}
	return page, nil
}

func (s *alchemerSource) fetch(ctx context.Context, req Request) (Page, error) {
	cur, err := decodeAlchemerCursor(req.Cursor)
	if err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrBadPage, err)
	}
	if req.Rescan || cur.Page == 0 {
		cur.Start, cur.Lower, cur.Page, cur.Sent = 0, cur.Restart, 1, false
	}
	size := min(pageSize(req.Limit), AlchemerMaxPageSize)
	page := Page{Records: []Record{}}
	for range maxAlchemerRequests {
		more, err := s.step(ctx, &cur, size, &page)
		if err != nil {
			return Page{}, err
		}
		if !more {
			// The walk is over: the next round starts alchemerOverlap
			// before this one did, if this one sent anything; a round
			// that sent nothing leaves the cursor as it was, so an idle
			// round costs no write.
			if cur.Sent && cur.Start > 0 {
				cur.Restart = max(cur.Restart, cur.Start-int64(alchemerOverlap/time.Second))
			}
			cur.Start, cur.Lower, cur.Page, cur.Sent = 0, 0, 0, false
			page.Next, page.HasMore = cur.encode(), false
			return checkPage(page, req.Cursor, req.Rescan)
		}
		if len(page.Records) > 0 || len(page.Quarantined) > 0 {
			page.Next, page.HasMore = cur.encode(), true
			return checkPage(page, req.Cursor, true)
		}
	}
	return Page{}, fmt.Errorf("%w: %d pages in a row held nothing to store", ErrBadPage, maxAlchemerRequests)
}

// step reads the walk's next page into page and moves cur past it; it
// reports whether Alchemer has more.
func (s *alchemerSource) step(ctx context.Context, cur *alchemerCursor, size int, page *Page) (bool, error) {
	region, offset := cur.region()
	q := url.Values{
		"page":           {strconv.Itoa(cur.Page)},
		"resultsperpage": {strconv.Itoa(size)},
		"order_by":       {"date_updated"},
	}
	bound := cur.Lower
	if cur.Lower > 0 {
		value, at := formatAlchemerFilter(time.Unix(cur.Lower, 0), region, offset)
		q.Set("filter[field][0]", "date_updated")
		q.Set("filter[operator][0]", ">=")
		q.Set("filter[value][0]", value)
		bound = at.Unix()
	}
	u := *s.endpoint
	u.RawQuery = q.Encode()
	ans, err := s.get(ctx, &u)
	if err != nil {
		return false, err
	}
	body, err := decodeAlchemerPage(bytes.NewReader(ans.body))
	if err != nil {
		return false, err
	}
	switch {
	case int(body.Page) != cur.Page:
		return false, fmt.Errorf("%w: page: got %d, asked for %d", ErrBadPage, body.Page, cur.Page)
	case len(body.Data) > size:
		return false, fmt.Errorf("%w: data: %d responses, asked for at most %d", ErrBadPage, len(body.Data), size)
	case body.TotalPages < 0 || body.TotalPages > maxAlchemerPage:
		return false, fmt.Errorf("%w: total_pages: out of range", ErrBadPage)
	}
	if cur.Start == 0 {
		// The data is as of the server's Date, or up to the cache's age
		// before it.
		start := ans.date
		if ans.cached {
			start = start.Add(-alchemerRepeatWindow)
		}
		cur.Start = start.Unix()
	}
	last := cur.Lower
	for i, raw := range body.Data {
		it, err := parseAlchemerResponse(raw, s.surveyID)
		if err != nil {
			return false, fmt.Errorf("%w: response %d: %w", ErrBadPage, i, err)
		}
		if it.updated.Unix() < bound {
			return false, fmt.Errorf("%w: response %d: date_updated before the filter's bound", ErrBadPage, i)
		}
		last = max(last, it.updated.Unix())
		if it.region != "" || it.offset != 0 {
			cur.setZone(it.region, it.offset)
		}
		if cur.seen(it.id, it.hash) {
			continue
		}
		cur.remember(alchemerSeen{ID: it.id, Updated: it.updated.Unix(), Hash: it.hash})
		cur.Sent = true
		// A response listed twice (Alchemer answering while it updates)
		// is stored once, in the version listed last: the aggregate
		// upserts a page in one statement.
		pid := strconv.FormatUint(it.id, 10)
		page.Records = slices.DeleteFunc(page.Records, func(r Record) bool { return r.ProviderID == pid })
		if it.skip {
			continue
		}
		page.Records = append(page.Records, it.record)
	}
	more := int(body.Page) < int(body.TotalPages) && len(body.Data) > 0
	if !more {
		return false, nil
	}
	if last > cur.Lower {
		cur.Lower, cur.Page = last, 1
	} else {
		cur.Page++
		if cur.Page > maxAlchemerPage {
			return false, fmt.Errorf("%w: more than %d pages", ErrBadPage, maxAlchemerPage)
		}
	}
	return true, nil
}

// get answers GET u: from the answers of the last alchemerRepeatWindow if
// one was identical, else from Alchemer, paced by the limiter and waiting
// out 429s within ctx's deadline.
func (s *alchemerSource) get(ctx context.Context, u *url.URL) (alchemerAnswer, error) {
	key := u.String()
	s.mu.Lock()
	now := s.now()
	for k, a := range s.answers {
		if now.Sub(a.at) >= alchemerRepeatWindow {
			delete(s.answers, k)
		}
	}
	a, ok := s.answers[key]
	blocked := s.blockedUntil
	s.mu.Unlock()
	if ok {
		s.cached.Add(ctx, 1, s.attrs)
		return a, nil
	}
	backoff := alchemerDefaultBackoff
	for attempt := 0; ; attempt++ {
		if wait := blocked.Sub(s.now()); wait > 0 {
			return alchemerAnswer{}, fmt.Errorf("%w: asked to wait %v more after a 429", ErrRateLimited, wait.Round(time.Second))
		}
		if err := s.wait(ctx); err != nil {
			return alchemerAnswer{}, err
		}
		a, retryAfter, err := s.once(ctx, u)
		if err == nil && a.cached {
			// Already up to a window old: not kept for another one.
			return a, nil
		}
		if err == nil {
			s.mu.Lock()
			if len(s.answers) >= maxAlchemerAnswers {
				clear(s.answers)
			}
			s.answers[key] = a
			s.mu.Unlock()
			return a, nil
		}
		if !errors.Is(err, ErrRateLimited) {
			return alchemerAnswer{}, err
		}
		wait := retryAfter
		if wait <= 0 {
			wait = backoff
			backoff *= 2
		}
		wait = min(wait, maxAlchemerBlock)
		deadline, hasDeadline := ctx.Deadline()
		if attempt+1 >= maxAlchemerRetries || (hasDeadline && time.Until(deadline) < wait) {
			// Not worth waiting here: nobody asks again before the wait is
			// over, so a 429 costs one request, not a loop of them.
			s.mu.Lock()
			s.blockedUntil = s.now().Add(wait)
			s.mu.Unlock()
			return alchemerAnswer{}, err
		}
		if err := s.sleep(ctx, wait); err != nil {
			return alchemerAnswer{}, err
		}
	}
}

// once sends one request. A 429's Retry-After comes back with the error.
func (s *alchemerSource) once(ctx context.Context, u *url.URL) (alchemerAnswer, time.Duration, error) {
	qa := &queryAuth{params: [][2]string{{"api_token", s.token}, {"api_token_secret", s.secret}}, bound: s.auth}
	var a alchemerAnswer
	var retryAfter time.Duration
	err := s.http.get(withQueryAuth(ctx, qa), u, func(resp *http.Response) {
		s.inspect(ctx, resp, &a, &retryAfter)
	}, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		a.body = b
		return err
	})
	if !qa.sent.Load() && ctx.Err() == nil {
		return a, 0, fmt.Errorf("%w: the HTTP client does not send query credentials: build its transport with provider.QueryAuthTransport", ErrRejected)
	}
	if err != nil {
		return a, retryAfter, qa.redact(err)
	}
	a.at = s.now()
	if a.date.IsZero() {
		a.date = s.now()
	}
	return a, 0, nil
}

// inspect reads an answer's headers: the server's Date, Retry-After,
// X-SG-Cached and X-SG-Warning (logged at most once a minute, counted
// always).
func (s *alchemerSource) inspect(ctx context.Context, resp *http.Response, a *alchemerAnswer, retryAfter *time.Duration) {
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		a.date = d
	}
	a.cached = strings.EqualFold(strings.TrimSpace(resp.Header.Get("X-SG-Cached")), "true")
	if a.cached {
		s.cached.Add(ctx, 1, s.attrs)
	}
	if ra := resp.Header.Get("Retry-After"); resp.StatusCode == http.StatusTooManyRequests && ra != "" {
		if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
			*retryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			*retryAfter = max(0, time.Until(t))
		}
	}
	if w := resp.Header.Get("X-SG-Warning"); w != "" {
		s.warnings.Add(ctx, 1, s.attrs)
		if ok, held := s.warnLog.Allow(s.name, time.Now()); ok {
			s.logger.WarnContext(ctx, "provider rate limit near", "provider", s.name, "warning", printable(w, maxDetailRunes),
				"warnings_since_last_line", held)
		}
	}
}

// wait takes the next request slot and sleeps until it is due; a slot
// after ctx's deadline is given back with ErrRateLimited.
func (s *alchemerSource) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	r := s.limiter.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("%w: the limiter allows no requests", ErrRateLimited)
	}
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && delay > time.Until(deadline) {
		r.CancelAt(s.now())
		return fmt.Errorf("%w: next request slot in %v, after the deadline", ErrRateLimited, delay.Round(time.Millisecond))
	}
	if err := s.sleep(ctx, delay); err != nil {
		r.CancelAt(s.now())
		return err
	}
	return nil
}
