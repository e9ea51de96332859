package provider

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// mapAnswers turns Typeform's answer list into an object keyed by each
// field's ref (its id when it has none), and picks the record's text: the
// first answer of type text, else the answers' values joined by "; ".
//
// An answer's value is the member its type names: {"type":"number",
// "number":3}. Choices become their labels (a choice's "other" text when it
// has no label); every other type keeps Typeform's value as it is, so a
// type added later still arrives.
func mapAnswers(list []map[string]json.RawMessage) (json.RawMessage, string, error) {
	if len(list) == 0 {
		return nil, "", nil
	}
	values := make(map[string]json.RawMessage, len(list))
	var text string
	parts := make([]string, 0, len(list))
	for i, a := range list {
		var field struct {
			ID  string `json:"id"`
			Ref string `json:"ref"`
		}
		if err := json.Unmarshal(a["field"], &field); err != nil {
			return nil, "", fmt.Errorf("answer %d: field: must be an object", i)
		}
		key := field.Ref
		if key == "" {
			key = field.ID
		}
		if key == "" {
			return nil, "", fmt.Errorf("answer %d: field: id or ref required", i)
		}
		var typ string
		if err := json.Unmarshal(a["type"], &typ); err != nil || typ == "" {
			return nil, "", fmt.Errorf("answer %d: type: must be a non-empty string", i)
		}
		v, err := answerValue(typ, a[typ])
		if err != nil {
			return nil, "", fmt.Errorf("answer %d: %w", i, err)
		}
		values[key] = v
		if typ == "text" && text == "" {
			_ = json.Unmarshal(v, &text)
		}
		if s := display(v); s != "" {
			parts = append(parts, s)
		}
	}
	return encodeAnswers(values, text, parts)
}

// encodeAnswers is the answers object of a record and its text: text, or
// when there is none the answers' display forms, parts, joined. Both
// dialects that carry answers (Typeform, Alchemer) end a record so.
func encodeAnswers(values map[string]json.RawMessage, text string, parts []string) (json.RawMessage, string, error) {
	if text == "" {
		text = strings.Join(parts, "; ")
	}
	obj, err := json.Marshal(values)
	if err != nil {
		return nil, "", fmt.Errorf("encode answers: %w", err)
	}
	return obj, text, nil
}

// answerValue is the value of an answer of type typ whose member is v.
func answerValue(typ string, v json.RawMessage) (json.RawMessage, error) {
	if v == nil {
		return nil, fmt.Errorf("%s: value missing", printable(typ, 32))
	}
	switch typ {
	case "text":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("text: must be a string")
		}
	case "choice":
		var c struct {
			Label string `json:"label"`
			Other string `json:"other"`
		}
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("choice: must be an object with a label")
		}
		if c.Label == "" {
			c.Label = c.Other
		}
		return json.Marshal(c.Label)
	case "choices":
		var c struct {
			Labels []string `json:"labels"`
			Other  string   `json:"other"`
		}
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("choices: must be an object with labels")
		}
		labels := append([]string{}, c.Labels...)
		if c.Other != "" {
			labels = append(labels, c.Other)
		}
		return json.Marshal(labels)
	}
	return v, nil
}

// display renders an answer value for a summary.
func display(v json.RawMessage) string {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return ""
	}
	switch x := x.(type) {
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	}
	return ""
}
