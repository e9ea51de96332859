package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"xii/libs/xiiapi"
)

// freshness checks that complete answers are fresh: each holds every
// write the background writer had acknowledged before the request was
// sent. The writer posts only responses that match the query, each with
// a text no other response has, so the last one acknowledged at a
// request's send time is the newest matching response then; the answer
// lists matching responses newest first, so it must hold that one, unless
// a full page of responses at least as new pushed it off.
type freshness struct {
	filter xiiapi.Filter // what the writes match
	limit  int           // the query's page size
	run    string        // this run's mark, in every text
	n      atomic.Int64

	mu   sync.Mutex
	last ack
}

// ack is a write a provider acknowledged.
type ack struct {
	text      string
	createdAt time.Time
}

// newFreshness reads the filter and page size from the query of target.
// Only filters a write can be made to match are accepted.
func newFreshness(target string) (*freshness, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("fresh check: %w", err)
	}
	v := u.Query()
	for _, p := range []string{"provider", "since", "until", "cursor"} {
		if v.Has(p) {
			return nil, fmt.Errorf("fresh check: the query has %s; it supports only survey, device and location (or -fresh=false)", p)
		}
	}
	f := &freshness{limit: xiiapi.DefaultLimit, filter: xiiapi.Filter{
		Survey: v.Get("survey"), Device: v.Get("device"), Location: v.Get("location"),
	}}
	if f.filter.Survey == "" {
		f.filter.Survey = "default"
	}
	if f.filter.Device == "" {
		f.filter.Device = "web"
	}
	if f.filter.Location == "" {
		f.filter.Location = "Germany"
	}
	if l := v.Get("limit"); l != "" {
		if f.limit, err = strconv.Atoi(l); err != nil || f.limit < 1 {
			return nil, fmt.Errorf("fresh check: limit %q", l)
		}
	}
	b := make([]byte, 4)
	rand.Read(b)
	f.run = hex.EncodeToString(b)
	return f, nil
}

// body returns the next write: a response the query matches, with a text
// of its own.
func (f *freshness) body() []byte {
	n := f.n.Add(1)
	b, err := json.Marshal(response{
		Survey: f.filter.Survey, Device: f.filter.Device, Location: f.filter.Location,
		Text: fmt.Sprintf("fresh %s #%d", f.run, n), Answers: map[string]any{"score": n % 11},
	})
	if err != nil {
		panic(err) // strings and ints always marshal
	}
	return b
}

// acked records a provider's answer to a write (survey-svc's stored
// response) as the last acknowledged.
func (f *freshness) acked(answer []byte) error {
	var r struct {
		Text      string    `json:"text"`
		CreatedAt time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(answer, &r); err != nil || r.Text == "" {
		return fmt.Errorf("fresh check: acknowledged write %.100q: %v", answer, err)
	}
	f.mu.Lock()
	f.last = ack{text: r.Text, createdAt: r.CreatedAt}
	f.mu.Unlock()
	return nil
}

// want returns the last acknowledged write, taken at a request's send
// time; false before the first.
func (f *freshness) want() (ack, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last, f.last.text != ""
}

// stale says whether a complete answer's body misses want. A body that
// cannot be read counts as stale.
func (f *freshness) stale(want ack, body []byte) bool {
	quoted, _ := json.Marshal(want.text)
	if bytes.Contains(body, quoted) { // the common case, without decoding
		return false
	}
	var page xiiapi.ResponsesBody
	if err := json.Unmarshal(body, &page); err != nil {
		return true
	}
	for _, r := range page.Data {
		if r.Text == want.text {
			return false
		}
	}
	// Pushed off a full page by responses at least as new: not stale.
	return len(page.Data) < f.limit || page.Data[len(page.Data)-1].CreatedAt.Before(want.createdAt)
}

// freshCount is what the check found at one rate.
type freshCount struct {
	checked, stale atomic.Int64
}

func (c *freshCount) String() string {
	if c.checked.Load() == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", c.stale.Load(), c.checked.Load())
}
