package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"xii/aggregator-svc/aggregate"
)

// alchemerPage is a SurveyResponse GET LIST answer. Counts are numbers,
// which Alchemer also writes as strings of digits.
type alchemerPage struct {
	ResultOK   *bool             `json:"result_ok"`
	TotalCount alchemerInt       `json:"total_count"`
	Page       alchemerInt       `json:"page"`
	TotalPages alchemerInt       `json:"total_pages"`
	PerPage    alchemerInt       `json:"results_per_page"`
	Data       []json.RawMessage `json:"data"`
	Message    string            `json:"message"`
	Code       json.RawMessage   `json:"code"`
}

// decodeAlchemerPage decodes and checks an answer's envelope; unknown
// fields are ignored. result_ok:false is an error with Alchemer's message.
func decodeAlchemerPage(r io.Reader) (alchemerPage, error) {
	var p alchemerPage
	if err := decodeJSON(r, &p, false); err != nil {
		return alchemerPage{}, err
	}
	switch {
	case p.ResultOK == nil:
		return alchemerPage{}, fmt.Errorf("%w: result_ok: required", ErrBadPage)
	case !*p.ResultOK:
		msg := printable(p.Message, maxDetailRunes)
		if msg == "" {
			msg = "no message"
		}
		kind := ErrRejected
		if l := strings.ToLower(msg); strings.Contains(l, "auth") || strings.Contains(l, "token") {
			kind = ErrUnauthorized
		}
		return alchemerPage{}, fmt.Errorf("%w: result_ok false: %s", kind, msg)
	case p.Data == nil:
		return alchemerPage{}, fmt.Errorf("%w: data: required", ErrBadPage)
	case p.Page < 1:
		return alchemerPage{}, fmt.Errorf("%w: page: required, at least 1", ErrBadPage)
	}
	return p, nil
}

// alchemerInt is a JSON integer, or a string of one.
type alchemerInt int

func (n *alchemerInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if string(b) == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || len(b) > 20 {
		return fmt.Errorf("want an integer")
	}
	*n = alchemerInt(v)
	return nil
}

// alchemerBool is a JSON boolean, or Alchemer's "1"/"0"/"true"/"false".
type alchemerBool bool

func (v *alchemerBool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`, `"1"`, "1":
		*v = true
	case "false", `"false"`, `"0"`, "0", `""`, "null":
		*v = false
	default:
		return fmt.Errorf("want a boolean")
	}
	return nil
}

// alchemerResponse is one response as Alchemer sends it; the fields not
// mapped (contact_id, session_id, ip_address, ...) are left out.
type alchemerResponse struct {
	ID            json.RawMessage `json:"id"` // a string of digits; a number is taken too
	Status        string          `json:"status"`
	IsTestData    alchemerBool    `json:"is_test_data"`
	DateSubmitted string          `json:"date_submitted"`
	DateStarted   string          `json:"date_started"`
	DateUpdated   string          `json:"date_updated"`
	Country       string          `json:"country"`
	City          string          `json:"city"`
	UserAgent     string          `json:"user_agent"`
	// SurveyData is keyed by question id; an empty one arrives as [].
	SurveyData json.RawMessage `json:"survey_data"`
}

// alchemerAnswerData is one question's answer in survey_data.
type alchemerAnswerData struct {
	ID       alchemerInt     `json:"id"`
	Type     string          `json:"type"`
	Question string          `json:"question"`
	Answer   json.RawMessage `json:"answer"`
	Options  json.RawMessage `json:"options"`
	Shown    *alchemerBool   `json:"shown"`
}

// alchemerItem is a response read: its position, and its record.
type alchemerItem struct {
	id      uint64
	updated time.Time
	hash    uint32
	region  string // the account's zone, "" for a numeric offset
	offset  int
	// skip: not stored (test data, disqualified), but it moves the walk.
	skip   bool
	record Record
}

// parseAlchemerResponse maps one response:
//
//	ProviderID  id (a partial response completed later keeps it, and is
//	            updated in place)
//	Survey      the survey id
//	Text        the first essay or textbox answer, else a summary of all
//	Device      iOS, Android, mobile or web from user_agent; unknown
//	Location    country, else unknown
//	Answers     {question id: answer}; nil without answers
//	CreatedAt   date_submitted (date_started when a partial has none)
//
// Test data (is_test_data) and disqualified responses are not stored;
// deleted ones the API does not list. Complete and Partial ones are.
func parseAlchemerResponse(raw json.RawMessage, surveyID string) (alchemerItem, error) {
	var r alchemerResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return alchemerItem{}, fieldError(err)
	}
	id, err := alchemerID(r.ID)
	if err != nil {
		return alchemerItem{}, err
	}
	updated, region, err := parseAlchemerTime(r.DateUpdated)
	if err != nil {
		return alchemerItem{}, fmt.Errorf("date_updated: %w", err)
	}
	h := fnv.New32a()
	h.Write(raw)
	it := alchemerItem{id: id, updated: updated, hash: h.Sum32(), region: region}
	if region == "" {
		it.offset, _, _ = alchemerOffset(strings.TrimSpace(r.DateUpdated[len(alchemerLayout)+1:]))
	}
	status := strings.ToLower(strings.TrimSpace(r.Status))
	if bool(r.IsTestData) || status == "disqualified" || status == "deleted" {
		it.skip = true
		return it, nil
	}
	created := r.DateSubmitted
	if strings.TrimSpace(created) == "" {
		created = r.DateStarted
	}
	var createdAt time.Time
	if strings.TrimSpace(created) != "" {
		if createdAt, _, err = parseAlchemerTime(created); err != nil {
			return alchemerItem{}, fmt.Errorf("date_submitted: %w", err)
		}
	}
	answers, text, err := alchemerAnswers(r.SurveyData)
	if err != nil {
		return alchemerItem{}, err
	}
	location := unknown
	if c := strings.TrimSpace(r.Country); c != "" {
		location = clean(c, aggregate.MaxLocationLen)
	}
	it.record = Record{
		ProviderID: strconv.FormatUint(id, 10),
		Survey:     surveyID,
		Text:       clean(text, aggregate.MaxTextLen),
		Device:     alchemerDevice(r.UserAgent),
		Location:   location,
		Answers:    answers,
		CreatedAt:  createdAt,
	}
	return it, nil
}

// fieldError names the field of a mistyped response.
func fieldError(err error) error {
	if typ, ok := err.(*json.UnmarshalTypeError); ok && typ.Field != "" {
		return fmt.Errorf("%s: got a JSON %s, want %s", typ.Field, typ.Value, kindOf(typ))
	}
	if _, ok := err.(*json.SyntaxError); ok {
		return fmt.Errorf("malformed JSON")
	}
	return fmt.Errorf("malformed response: %v", printable(err.Error(), 100))
}

// alchemerID reads a response id: a positive integer, as a string.
func alchemerID(raw json.RawMessage) (uint64, error) {
	s := string(bytes.Trim(raw, `"`))
	id, err := strconv.ParseUint(s, 10, 63)
	if err != nil || id == 0 || len(raw) == 0 {
		return 0, fmt.Errorf("id: want a positive integer")
	}
	return id, nil
}

// alchemerDevice names the respondent's device from the user agent in
// survey-svc's words.
func alchemerDevice(ua string) string {
	switch {
	case strings.TrimSpace(ua) == "":
		return unknown
	case strings.Contains(ua, "Mobile") && !strings.Contains(ua, "iPhone") && !strings.Contains(ua, "iPad") && !strings.Contains(ua, "Android"):
		return "mobile"
	}
	if d := deviceOf(ua, ""); d != unknown {
		return d
	}
	return "web"
}

// alchemerAnswers maps survey_data onto {question id: answer} and picks
// the text. An answer is "answer" when it has one, else the answers of
// its options (checkboxes); questions not shown or not answered are left
// out.
func alchemerAnswers(raw json.RawMessage) (json.RawMessage, string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" || string(t) == "[]" {
		return nil, "", nil
	}
	var data map[string]alchemerAnswerData
	if err := json.Unmarshal(t, &data); err != nil {
		return nil, "", fmt.Errorf("survey_data: want an object of questions")
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		if x != y {
			return x - y
		}
		return strings.Compare(a, b)
	})
	values := map[string]json.RawMessage{}
	var text string
	var parts []string
	for _, k := range keys {
		q := data[k]
		if q.Shown != nil && !bool(*q.Shown) {
			continue
		}
		v := alchemerValue(q)
		if v == nil {
			continue
		}
		values[k] = v
		s := display(v)
		if text == "" && (q.Type == "textbox" || q.Type == "essay" || q.Type == "ESSAY" || q.Type == "TEXTBOX") {
			text = s
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(values) == 0 {
		return nil, "", nil
	}
	return encodeAnswers(values, text, parts)
}

// alchemerValue is a question's answer, nil when it has none.
func alchemerValue(q alchemerAnswerData) json.RawMessage {
	if a := bytes.TrimSpace(q.Answer); len(a) > 0 && string(a) != "null" && string(a) != `""` {
		return json.RawMessage(a)
	}
	var opts map[string]struct {
		Option string `json:"option"`
		Answer string `json:"answer"`
	}
	if json.Unmarshal(q.Options, &opts) != nil || len(opts) == 0 {
		return nil
	}
	ids := make([]string, 0, len(opts))
	for id := range opts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	labels := make([]string, 0, len(opts))
	for _, id := range ids {
		o := opts[id]
		l := o.Answer
		if l == "" {
			l = o.Option
		}
		if l != "" {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		return nil
	}
	b, _ := json.Marshal(labels)
	return b
}
