package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"xii/libs/params"
)

// maxQueryBytes bounds an export request's query string.
const maxQueryBytes = 2048

// exportParams are the query parameters the export API accepts.
var exportParams = []string{"after", "rescan", "limit", "survey", "device", "location"}

// DecodeNewResponse parses a submitted response strictly: valid UTF-8, one
// JSON object, no unknown fields, no key given twice at any depth, field
// names exactly as documented (encoding/json alone would take "TEXT" for
// text, and the last of two equal keys), nothing after it. Errors wrap
// ErrInvalid.
func DecodeNewResponse(body []byte) (NewResponse, error) {
	if !utf8.Valid(body) {
		return NewResponse{}, invalidf("body: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var nr NewResponse
	if err := dec.Decode(&nr); err != nil {
		return NewResponse{}, invalidf("body: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return NewResponse{}, invalidf("body: unexpected data after the JSON object")
	}
	if err := checkKeys(body, newResponseFields); err != nil {
		return NewResponse{}, invalidf("body: %v", err)
	}
	return nr, nil
}

// newResponseFields are NewResponse's JSON names.
var newResponseFields = []string{"survey", "text", "device", "location", "answers"}

// checkKeys walks the valid JSON text b and refuses an object that has a
// key twice, at any depth, and a key of the outermost object that is not
// exactly one of fields.
func checkKeys(b []byte, fields []string) error {
	type object struct {
		keys    map[string]bool
		wantKey bool
	}
	var stack []*object // nil entries are arrays
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF; b has been decoded once already
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if key, ok := tok.(string); ok && top != nil && top.wantKey {
			switch {
			case top.keys[key]:
				return fmt.Errorf("key %q given twice", key)
			case len(stack) == 1 && !slices.Contains(fields, key):
				if i := slices.IndexFunc(fields, func(f string) bool { return strings.EqualFold(f, key) }); i >= 0 {
					return fmt.Errorf("unknown field %q; names are case-sensitive: %q", key, fields[i])
				}
				return fmt.Errorf("unknown field %q", key)
			}
			top.keys[key], top.wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &object{keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, nil)
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			} else {
				top = nil
			}
		}
		if top != nil { // a value of top ended: a key comes next
			top.wantKey = true
		}
	}
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "empty, expected a JSON object"
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "expected a JSON object"
		}
		return fmt.Sprintf("%s: must be a %s", typ.Field, jsonKind(typ.Field))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return "malformed JSON"
}

func jsonKind(field string) string {
	if field == "answers" {
		return "JSON object"
	}
	return "string"
}

// ParseExportQuery parses an export request's query string strictly: known
// parameters only, each at most once. Errors wrap ErrInvalid.
func ParseExportQuery(raw string) (ExportQuery, error) {
	values, err := params.Parse(raw, exportParams, maxQueryBytes)
	if err != nil {
		return ExportQuery{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var q ExportQuery
	if q.After, err = ParseCursor(values.Get("after")); err != nil {
		return ExportQuery{}, err
	}
	if s := values.Get("rescan"); s != "" {
		if q.Rescan, err = strconv.ParseBool(s); err != nil {
			return ExportQuery{}, invalidf("rescan: must be true or false")
		}
	}
	if q.Limit, err = params.Int(values, "limit", 1, MaxExportLimit); err != nil {
		return ExportQuery{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	q.Filter = Filter{Survey: values.Get("survey"), Device: values.Get("device"), Location: values.Get("location")}
	return q, q.Filter.Validate()
}
