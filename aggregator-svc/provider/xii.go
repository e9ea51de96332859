package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"
)

// xiiSource speaks xii-v1, survey-svc's export API:
//
//	GET {url}/api/v1/responses?after=CURSOR&rescan=true&limit=N
//	200 {"data":[{"id":7,"survey":..,"text":..,"device":..,"location":..,
//	      "answers":{..},"created_at":..}],"next_cursor":"..","has_more":true}
//
// The dialect is ours and versioned, so pages are decoded strictly: an
// unknown field means a dialect this adapter does not speak.
type xiiSource struct {
	name     string
	endpoint *url.URL
	http     httpClient
}

var _ Source = (*xiiSource)(nil)

func newXII(name string, base *url.URL, opts Options) *xiiSource {
	return &xiiSource{
		name:     name,
		endpoint: base.JoinPath("api", "v1", "responses"),
		http:     httpClient{client: opts.HTTPClient, token: opts.Credential.Token, maxBody: opts.MaxPageBytes},
	}
}

// Fetch returns the page after req.Cursor. With req.Rescan the provider
// restarts from the cursor's last final position, so rows that committed
// late behind it are found in this round. Errors: ErrUnauthorized,
// ErrRateLimited, ErrRejected, ErrBadPage, ErrUnavailable, or ctx's error.
func (s *xiiSource) Fetch(ctx context.Context, req Request) (Page, error) {
	page, err := s.fetch(ctx, req)
	if err != nil {
		return Page{}, redact(fmt.Errorf("fetch page from %s: %w", s.name, err), s.http.token)
	}
	return page, nil
}

func (s *xiiSource) fetch(ctx context.Context, req Request) (Page, error) {
	q := url.Values{}
	if req.Cursor != "" {
		q.Set("after", req.Cursor)
	}
	if req.Rescan {
		q.Set("rescan", "true")
	}
	q.Set("limit", strconv.Itoa(pageSize(req.Limit)))
	u := *s.endpoint
	u.RawQuery = q.Encode()

	var body xiiPage
	if err := s.http.getJSON(ctx, &u, func(r io.Reader) error { return decodeJSON(r, &body, true) }); err != nil {
		return Page{}, err
	}
	page, err := body.page()
	if err != nil {
		return Page{}, err
	}
	return checkPage(page, req.Cursor, req.Rescan)
}

// xiiPage is an export page as sent. The envelope's fields are pointers to
// tell a missing field from a zero one: a page without next_cursor would
// otherwise restart the export from the beginning.
type xiiPage struct {
	Data       *[]xiiResponse `json:"data"`
	NextCursor *string        `json:"next_cursor"`
	HasMore    *bool          `json:"has_more"`
}

// xiiResponse is one exported survey response.
type xiiResponse struct {
	ID        int64           `json:"id"`
	Survey    string          `json:"survey"`
	Text      string          `json:"text"`
	Device    string          `json:"device"`
	Location  string          `json:"location"`
	Answers   json.RawMessage `json:"answers"`
	CreatedAt time.Time       `json:"created_at"`
}

// page maps p onto a Page; the records are validated by the caller.
func (p xiiPage) page() (Page, error) {
	switch {
	case p.Data == nil:
		return Page{}, fmt.Errorf("%w: data: required", ErrBadPage)
	case p.NextCursor == nil:
		return Page{}, fmt.Errorf("%w: next_cursor: required", ErrBadPage)
	case p.HasMore == nil:
		return Page{}, fmt.Errorf("%w: has_more: required", ErrBadPage)
	}
	recs := make([]Record, 0, len(*p.Data))
	for i, r := range *p.Data {
		if r.ID <= 0 {
			return Page{}, fmt.Errorf("%w: record %d: id: must be positive", ErrBadPage, i)
		}
		answers := r.Answers
		if string(answers) == "null" {
			answers = nil
		}
		recs = append(recs, Record{
			ProviderID: strconv.FormatInt(r.ID, 10),
			Survey:     r.Survey,
			Text:       r.Text,
			Device:     r.Device,
			Location:   r.Location,
			Answers:    answers,
			CreatedAt:  r.CreatedAt,
		})
	}
	return Page{Records: recs, Next: *p.NextCursor, HasMore: *p.HasMore}, nil
}
