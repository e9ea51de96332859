// Package survey is survey-svc's domain and its HTTP transport: it
// validates and stores survey responses and exports them, page by page, to
// whoever aggregates them.
//
// Only the transport (transport_http.go) imports net/http, and no file
// imports a database driver: the transport maps the errors defined here to
// status codes, and the store (package postgres) translates driver errors
// to them.
package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Field limits. They bound what one response may cost to store and export.
const (
	MaxSurveyLen   = 64
	MaxTextLen     = 4096
	MaxDeviceLen   = 64
	MaxLocationLen = 128
	MaxAnswersSize = 16 << 10 // bytes of JSON

	DefaultSurvey = "default"
)

// Export page sizes.
const (
	DefaultExportLimit = 100
	MaxExportLimit     = 1000
)

// Domain errors. The HTTP transport maps each to a status code.
var (
	// ErrInvalid wraps every validation failure; the message names the field.
	ErrInvalid = errors.New("invalid request")
	// ErrUnauthorized is returned when the export token is missing or wrong.
	ErrUnauthorized = errors.New("unauthorized")
)

// Response is one stored survey response.
type Response struct {
	ID        int64           `json:"id"`
	Survey    string          `json:"survey"`
	Text      string          `json:"text"`
	Device    string          `json:"device"`
	Location  string          `json:"location"`
	Answers   json.RawMessage `json:"answers,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// NewResponse is what a client submits: a Response without the fields the
// server sets.
type NewResponse struct {
	Survey   string          `json:"survey"`
	Text     string          `json:"text"`
	Device   string          `json:"device"`
	Location string          `json:"location"`
	Answers  json.RawMessage `json:"answers,omitempty"`
}

// Normalize trims surrounding space and applies defaults.
func (n *NewResponse) Normalize() {
	n.Survey = strings.TrimSpace(n.Survey)
	n.Text = strings.TrimSpace(n.Text)
	n.Device = strings.TrimSpace(n.Device)
	n.Location = strings.TrimSpace(n.Location)
	if n.Survey == "" {
		n.Survey = DefaultSurvey
	}
	if string(n.Answers) == "null" {
		n.Answers = nil
	}
}

// Validate reports the first problem with n, wrapped in ErrInvalid.
// Call Normalize first.
func (n NewResponse) Validate() error {
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{
		{"survey", n.Survey, MaxSurveyLen, true},
		{"text", n.Text, MaxTextLen, true},
		{"device", n.Device, MaxDeviceLen, true},
		{"location", n.Location, MaxLocationLen, true},
	} {
		if err := checkString(f.name, f.value, f.max, f.required); err != nil {
			return err
		}
	}
	if n.Answers != nil {
		if len(n.Answers) > MaxAnswersSize {
			return invalidf("answers: larger than %d bytes", MaxAnswersSize)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(n.Answers, &obj); err != nil || obj == nil {
			return invalidf("answers: must be a JSON object")
		}
	}
	return nil
}

func checkString(name, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return invalidf("%s: required", name)
	case !utf8.ValidString(v):
		return invalidf("%s: not valid UTF-8", name)
	case utf8.RuneCountInString(v) > max:
		return invalidf("%s: longer than %d characters", name, max)
	case strings.ContainsRune(v, 0):
		return invalidf("%s: contains a NUL character", name)
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Filter restricts an export to responses whose fields equal the non-empty
// values.
type Filter struct {
	Survey   string
	Device   string
	Location string
}

// Validate checks the filter values against the field limits.
func (f Filter) Validate() error {
	for _, v := range []struct {
		name, value string
		max         int
	}{
		{"survey", f.Survey, MaxSurveyLen},
		{"device", f.Device, MaxDeviceLen},
		{"location", f.Location, MaxLocationLen},
	} {
		if err := checkString(v.name, v.value, v.max, false); err != nil {
			return err
		}
	}
	return nil
}

// ExportQuery asks for the page of responses after a cursor.
type ExportQuery struct {
	After Cursor // zero value: from the beginning
	// Rescan restarts from After's last final position instead of its scan
	// position. A consumer sets it on the first page of every sync round, so
	// that rows which committed late behind an interrupted or adopted scan
	// are found in this round rather than the next.
	Rescan bool
	Limit  int // 1..MaxExportLimit
	Filter Filter
}

// Page is one export page. Next resumes after it; when HasMore is false the
// exporter has seen everything committed so far and Next is where the next
// sync starts.
type Page struct {
	Responses []Response
	Next      Cursor
	HasMore   bool
}

// Repository stores responses.
type Repository interface {
	// Create stores r and returns it with ID and CreatedAt set.
	Create(ctx context.Context, r NewResponse) (Response, error)
	// Export returns the page after q.After; see Cursor for the ordering and
	// why late commits are never skipped.
	Export(ctx context.Context, q ExportQuery) (Page, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// Service is what survey-svc offers.
type Service interface {
	// Submit validates and stores a response. Errors: ErrInvalid.
	Submit(ctx context.Context, r NewResponse) (Response, error)
	// Export returns one page of stored responses. Errors: ErrInvalid.
	Export(ctx context.Context, q ExportQuery) (Page, error)
}

type service struct {
	repo Repository
}

// NewService returns the Service backed by repo.
func NewService(repo Repository) Service {
	return &service{repo: repo}
}

func (s *service) Submit(ctx context.Context, r NewResponse) (Response, error) {
	r.Normalize()
	if err := r.Validate(); err != nil {
		return Response{}, err
	}
	resp, err := s.repo.Create(ctx, r)
	if err != nil {
		return Response{}, fmt.Errorf("submit: %w", err)
	}
	return resp, nil
}

func (s *service) Export(ctx context.Context, q ExportQuery) (Page, error) {
	if q.Limit == 0 {
		q.Limit = DefaultExportLimit
	}
	if q.Limit < 1 || q.Limit > MaxExportLimit {
		return Page{}, invalidf("limit: must be between 1 and %d", MaxExportLimit)
	}
	if err := q.Filter.Validate(); err != nil {
		return Page{}, err
	}
	if q.Rescan {
		q.After = q.After.Rewind()
	}
	p, err := s.repo.Export(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("export: %w", err)
	}
	return p, nil
}
