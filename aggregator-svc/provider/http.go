package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Bounds on what is read from an answer besides a page.
const (
	maxErrorBodyBytes = 4 << 10 // an error answer's body, for its message
	maxDrainBytes     = 4 << 10 // what is left after a page, to reuse the connection
	maxDetailRunes    = 200     // a provider's error message in ours
)

// httpClient is the HTTP plumbing the adapters share: one GET with the
// bearer token, the status mapped onto the error taxonomy, a bounded body.
// Its errors name the status but never the URL, whose query holds the
// cursor, nor the token.
type httpClient struct {
	client  *http.Client
	token   string
	maxBody int64
}

// getJSON sends GET u and hands a 200 answer's body to decode, through a
// reader that fails past maxBody bytes. Errors: ErrUnauthorized,
// ErrRateLimited, ErrRejected, ErrBadPage, ErrUnavailable, or ctx's error.
func (c *httpClient) getJSON(ctx context.Context, u *url.URL, decode func(io.Reader) error) error {
	return c.get(ctx, u, nil, decode)
}

// get is getJSON that first shows every answer's status and headers to
// inspect, when it is not nil.
func (c *httpClient) get(ctx context.Context, u *url.URL, inspect func(*http.Response), decode func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		// Not wrapped: the parse error would quote the URL.
		return errors.New("build request: invalid url")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		// A *url.Error quotes the URL; keep only what went wrong.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if inspect != nil {
		inspect(resp)
	}
	if err := statusError(resp); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	if err := checkContentType(resp.Header.Get("Content-Type")); err != nil {
		return err
	}
	body := &limitedBody{r: resp.Body, max: c.maxBody}
	if err := decode(body); err != nil {
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case body.readErr != nil:
			return fmt.Errorf("%w: read body: %w", ErrUnavailable, body.readErr)
		case body.tooLarge:
			return fmt.Errorf("%w: body larger than %d bytes", ErrBadPage, c.maxBody)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	return nil
}

// statusError maps a status other than 200 onto the error taxonomy, with
// the provider's own message when its body has one.
func statusError(resp *http.Response) error {
	code := resp.StatusCode
	var kind error
	switch {
	case code == http.StatusOK:
		return nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		kind = ErrUnauthorized
	case code == http.StatusTooManyRequests:
		kind = ErrRateLimited
	case code == http.StatusRequestTimeout || code >= 500:
		kind = ErrUnavailable
	case code >= 400:
		kind = ErrRejected
	default:
		kind = ErrBadPage
	}
	msg := "status " + strconv.Itoa(code)
	if kind == ErrBadPage {
		msg = "unexpected " + msg
	}
	if d := errorDetail(io.LimitReader(resp.Body, maxErrorBodyBytes)); d != "" {
		msg += ": " + d
	}
	if ra := resp.Header.Get("Retry-After"); code == http.StatusTooManyRequests && ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			msg += fmt.Sprintf(" (retry after %ds)", s)
		}
	}
	return fmt.Errorf("%w: %s", kind, msg)
}

// errorDetail extracts the message of a JSON error body: survey-svc's
// {"error":..,"code":..}, Typeform's {"code":..,"description":..}. Other
// bodies give "": an HTML error page is not worth quoting.
func errorDetail(r io.Reader) string {
	var body map[string]any
	if err := json.NewDecoder(r).Decode(&body); err != nil {
		return ""
	}
	for _, key := range []string{"description", "error", "message", "code"} {
		if s, ok := body[key].(string); ok && strings.TrimSpace(s) != "" {
			return printable(s, maxDetailRunes)
		}
	}
	return ""
}

// printable drops control characters from s and cuts it to max runes.
func printable(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsControl(r) {
			continue
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// checkContentType accepts a JSON media type, or none.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: malformed content type", ErrBadPage)
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fmt.Errorf("%w: content type %s, want application/json", ErrBadPage, printable(mt, 64))
	}
	return nil
}

// redact hides token in err's message. The result still matches the
// errors err matches (errors.Is), but does not unwrap to err, whose
// message holds the token.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), token, "[redacted]"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string        { return e.msg }
func (e redactedError) Is(target error) bool { return errors.Is(e.err, target) }
