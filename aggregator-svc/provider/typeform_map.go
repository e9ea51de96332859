package provider

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"xii/aggregator-svc/aggregate"
)

// unknown fills Device and Location when a response does not tell them.
const unknown = "unknown"

// typeformPage is a Responses API answer. Items is a pointer to tell a
// missing list from an empty one.
type typeformPage struct {
	Items *[]typeformResponse `json:"items"`
}

// typeformResponse is one response as Typeform sends it; the fields not
// mapped onto a Record (landing_id, landed_at, calculated, variables, ...)
// are left out.
type typeformResponse struct {
	Token       string    `json:"token"`
	SubmittedAt time.Time `json:"submitted_at"`
	Metadata    struct {
		UserAgent string `json:"user_agent"`
		Platform  string `json:"platform"`
	} `json:"metadata"`
	// Hidden holds the hidden fields the form was opened with. Their values
	// are strings, but a value of another type must not cost the page.
	Hidden map[string]json.RawMessage `json:"hidden"`
	// Answers are decoded by mapAnswers: each answer's value is in the
	// member its type names.
	Answers []map[string]json.RawMessage `json:"answers"`
}

// page maps p onto a Page of the form's responses after cursor: Next is
// the last response's token (cursor itself after an empty page), HasMore
// that the page was full. The records are validated by the caller.
func (p typeformPage) page(formID, cursor string, size int) (Page, error) {
	if p.Items == nil {
		return Page{}, fmt.Errorf("%w: items: required", ErrBadPage)
	}
	items := *p.Items
	page := Page{Records: make([]Record, 0, len(items)), Next: cursor, HasMore: len(items) >= size}
	for i, it := range items {
		r, err := it.record(formID)
		if err != nil {
			return Page{}, fmt.Errorf("%w: record %d: %w", ErrBadPage, i, err)
		}
		page.Records = append(page.Records, r)
		page.Next = it.Token
	}
	return page, nil
}

// record maps one response:
//
//	ProviderID  token, which is also the cursor Typeform pages by
//	Survey      the form id
//	Text        the first text answer, else a summary of all answers
//	Device      see deviceOf
//	Location    the hidden field "location", else "unknown"
//	Answers     {field ref (or id): value}; nil without answers
//	CreatedAt   submitted_at
//
// Text and Location come from what respondents typed, so they are trimmed
// to the record limits rather than refused with the page.
func (t typeformResponse) record(formID string) (Record, error) {
	answers, text, err := mapAnswers(t.Answers)
	if err != nil {
		return Record{}, err
	}
	location := unknown
	var hidden string
	if json.Unmarshal(t.Hidden["location"], &hidden) == nil && strings.TrimSpace(hidden) != "" {
		location = clean(hidden, aggregate.MaxLocationLen)
	}
	return Record{
		ProviderID: t.Token,
		Survey:     formID,
		Text:       clean(text, aggregate.MaxTextLen),
		Device:     deviceOf(t.Metadata.UserAgent, t.Metadata.Platform),
		Location:   location,
		Answers:    answers,
		CreatedAt:  t.SubmittedAt,
	}, nil
}

// deviceOf names the respondent's device in survey-svc's words: "iOS" or
// "Android" when the user agent says so; otherwise from Typeform's
// metadata.platform, where "other" means a desktop browser ("web"),
// "mobile" and "tablet" a device whose system the user agent did not name
// ("mobile"); "unknown" when neither tells.
func deviceOf(userAgent, platform string) string {
	switch {
	case strings.Contains(userAgent, "iPhone"), strings.Contains(userAgent, "iPad"), strings.Contains(userAgent, "iPod"):
		return "iOS"
	case strings.Contains(userAgent, "Android"):
		return "Android"
	}
	switch p := strings.ToLower(strings.TrimSpace(platform)); p {
	case "other":
		return "web"
	case "mobile", "tablet":
		return "mobile"
	case "":
		return unknown
	default:
		return clean(p, aggregate.MaxDeviceLen)
	}
}

// clean trims s, drops NUL characters (PostgreSQL refuses them) and cuts s
// to max characters.
func clean(s string, max int) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\x00", "")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}
