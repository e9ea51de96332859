package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// errTooLarge is what a limitedBody returns once the body passes its limit.
var errTooLarge = errors.New("body too large")

// limitedBody reads at most max+1 bytes of r: past max it fails with
// errTooLarge, so a huge page is refused without being read to its end.
// It remembers why it stopped, which tells a page we cannot use from a
// connection that broke while we read it.
type limitedBody struct {
	r        io.Reader
	max      int64
	n        int64
	tooLarge bool
	readErr  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.tooLarge {
		return 0, errTooLarge
	}
	if left := b.max + 1 - b.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		b.tooLarge = true
		return 0, errTooLarge
	}
	if err != nil && err != io.EOF {
		b.readErr = err
	}
	return n, err
}

// decodeJSON decodes exactly one JSON value from r into v and nothing after
// it. strict refuses unknown object fields. Malformed or mistyped JSON
// gives an error wrapping ErrBadPage; a failing reader's error is returned
// as it is.
func decodeJSON(r io.Reader, v any, strict bool) error {
	dec := json.NewDecoder(r)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonError(err)
		}
		return fmt.Errorf("%w: unexpected data after the JSON value", ErrBadPage)
	}
	return nil
}

// jsonError describes a decoding error without quoting the body: a
// provider's body is not ours to copy into logs.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tm *time.ParseError
	switch {
	case errors.Is(err, errTooLarge):
		return err
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: empty body", ErrBadPage)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: truncated JSON", ErrBadPage)
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: malformed JSON at byte %d", ErrBadPage, syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Errorf("%w: got a JSON %s, want an object", ErrBadPage, typ.Value)
		}
		return fmt.Errorf("%w: %s: got a JSON %s, want %s", ErrBadPage, typ.Field, typ.Value, kindOf(typ))
	case errors.As(err, &tm):
		return fmt.Errorf("%w: malformed time, want RFC 3339", ErrBadPage)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("%w: unknown field %s", ErrBadPage, strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	// Anything else comes from the reader (a broken connection) or from a
	// field's own decoder (a malformed time): the caller tells which.
	return fmt.Errorf("%w: %w", ErrBadPage, err)
}

// kindOf names the JSON kind a Go type decodes from.
func kindOf(typ *json.UnmarshalTypeError) string {
	switch k := typ.Type.Kind().String(); {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "a boolean"
	case k == "slice", k == "array":
		return "an array"
	}
	return "an object"
}
