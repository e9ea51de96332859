package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQueryBytes bounds an export request's query string.
const maxQueryBytes = 2048

// exportParams are the query parameters the export API accepts.
var exportParams = map[string]bool{"after": true, "rescan": true, "limit": true, "survey": true, "device": true, "location": true}

// DecodeNewResponse parses a submitted response strictly: valid UTF-8, one
// JSON object, no unknown fields, nothing after it. Errors wrap ErrInvalid.
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
	return nr, nil
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
	if len(raw) > maxQueryBytes {
		return ExportQuery{}, invalidf("query: longer than %d bytes", maxQueryBytes)
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return ExportQuery{}, invalidf("query: malformed")
	}
	for name, vs := range values {
		if !exportParams[name] {
			return ExportQuery{}, invalidf("%s: unknown parameter", name)
		}
		if len(vs) > 1 {
			return ExportQuery{}, invalidf("%s: given more than once", name)
		}
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
	if s := values.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxExportLimit {
			return ExportQuery{}, invalidf("limit: must be an integer between 1 and %d", MaxExportLimit)
		}
		q.Limit = n
	}
	q.Filter = Filter{Survey: values.Get("survey"), Device: values.Get("device"), Location: values.Get("location")}
	return q, q.Filter.Validate()
}
