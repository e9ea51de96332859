package xiiapi

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"xii/libs/params"
)

// ErrInvalid wraps every validation failure of a request; the message
// names the parameter. On the wire it is CodeInvalidRequest.
var ErrInvalid = errors.New("invalid request")

// MaxFilterLen bounds a filter value, in characters.
const MaxFilterLen = 128

// FilterParams are the query parameters of a Filter.
var FilterParams = []string{"survey", "device", "location", "provider", "since", "until"}

// Filter restricts a read to responses whose fields equal the non-empty
// values and whose created_at is in [Since, Until) where those are set.
type Filter struct {
	Survey   string
	Device   string
	Location string
	Provider string
	Since    time.Time
	Until    time.Time
}

// ParseFilter reads the filter parameters of v (times are RFC 3339); it
// checks their form, and Validate their values. Errors wrap ErrInvalid.
func ParseFilter(v url.Values) (Filter, error) {
	f := Filter{Survey: v.Get("survey"), Device: v.Get("device"), Location: v.Get("location"), Provider: v.Get("provider")}
	var err error
	if f.Since, err = params.Time(v, "since"); err != nil {
		return Filter{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if f.Until, err = params.Time(v, "until"); err != nil {
		return Filter{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return f, nil
}

// Values returns f in the URL form ParseFilter reads.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for _, p := range f.fields() {
		if p.value != "" {
			v.Set(p.name, p.value)
		}
	}
	if !f.Since.IsZero() {
		v.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		v.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	return v
}

// Validate checks the filter's values. Errors wrap ErrInvalid.
func (f Filter) Validate() error {
	for _, v := range f.fields() {
		switch {
		case !utf8.ValidString(v.value):
			return Invalidf("%s: not valid UTF-8", v.name)
		case utf8.RuneCountInString(v.value) > MaxFilterLen:
			return Invalidf("%s: longer than %d characters", v.name, MaxFilterLen)
		case strings.ContainsRune(v.value, 0):
			return Invalidf("%s: contains a NUL character", v.name)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Invalidf("since: must be before until")
	}
	return nil
}

func (f Filter) fields() []struct{ name, value string } {
	return []struct{ name, value string }{
		{"survey", f.Survey}, {"device", f.Device}, {"location", f.Location}, {"provider", f.Provider},
	}
}

// Invalidf returns an error wrapping ErrInvalid with the formatted
// message.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
