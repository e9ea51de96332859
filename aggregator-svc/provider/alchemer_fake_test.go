package provider

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// fakeAlchemer speaks Alchemer's v5 SurveyResponse GET LIST for one survey
// as its reference documents it:
//
//	GET /v5/survey/{id}/surveyresponse?api_token=..&api_token_secret=..
//	page            1-based, default 1
//	resultsperpage  1..500, default 50
//	order_by        date_submitted or date_updated, "-" before for descending
//	filter[field][i], filter[operator][i], filter[value][i]
//	                date_updated or date_submitted with >=, >, <, <=, =;
//	                status with = or !=; values in the account's zone
//	200 {"result_ok":true,"total_count":..,"page":..,"total_pages":..,
//	     "results_per_page":..,"data":[...]}
//	    {"result_ok":false,"message":".."} for what it refuses
//	429 "Please wait for other requests to complete." for an identical
//	    request within 60 s
//
// Its clock is its own (advance moves it), times are written in
// America/New_York with their abbreviation, to the second, and responses
// are visible only from their visibleAt. Responses of the same second are
// ordered by id. Unknown parameters are refused.
type fakeAlchemer struct {
	surveyID, token, secret string

	mu       sync.Mutex
	now      time.Time
	zone     *time.Location
	items    map[int]*fakeResponse
	nextID   int
	requests int
	queries  []url.Values
	lastSeen map[string]time.Time // identical-request window
	// beforeAnswer, when set, runs (locked) after a request is accepted
	// and before it is answered: the changes between two page requests.
	beforeAnswer func(f *fakeAlchemer, q url.Values)
	// header is added to every answer.
	header http.Header
}

type fakeResponse struct {
	id         int
	status     string
	test       bool
	submitted  time.Time
	updated    time.Time
	visibleAt  time.Time
	answer     string
	generation int
}

func newFakeAlchemer(surveyID string) *fakeAlchemer {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return &fakeAlchemer{
		surveyID: surveyID, token: testToken, secret: testSecret,
		now: time.Date(2026, 2, 2, 14, 0, 0, 0, time.UTC), zone: loc,
		items: map[int]*fakeResponse{}, lastSeen: map[string]time.Time{}, header: http.Header{},
	}
}

// advance moves the fake's clock.
func (f *fakeAlchemer) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// add submits n complete responses now; add must be called unlocked.
func (f *fakeAlchemer) add(n int) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(n, 0)
}

// addLocked submits n responses at the current second, visible after
// delay.
func (f *fakeAlchemer) addLocked(n int, delay time.Duration) []int {
	var ids []int
	for range n {
		f.nextID++
		t := f.now.Truncate(time.Second)
		f.items[f.nextID] = &fakeResponse{id: f.nextID, status: "Complete", submitted: t, updated: t, visibleAt: t.Add(delay),
			answer: fmt.Sprintf("answer %d", f.nextID)}
		ids = append(ids, f.nextID)
	}
	return ids
}

// updateLocked changes response id now: a new answer and date_updated.
func (f *fakeAlchemer) updateLocked(id int, status string) {
	r := f.items[id]
	r.generation++
	r.updated = f.now.Truncate(time.Second)
	r.answer = fmt.Sprintf("answer %d v%d", id, r.generation)
	if status != "" {
		r.status = status
	}
}

func (f *fakeAlchemer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	q := r.URL.Query()
	f.queries = append(f.queries, q)
	for k, vs := range f.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Date", f.now.UTC().Format(http.TimeFormat))
	if r.Method != http.MethodGet || r.URL.Path != "/v5/survey/"+f.surveyID+"/surveyresponse" {
		f.refuse(w, http.StatusNotFound, "Survey not found")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("api_token")), []byte(f.token)) != 1 ||
		subtle.ConstantTimeCompare([]byte(q.Get("api_token_secret")), []byte(f.secret)) != 1 {
		f.refuse(w, http.StatusUnauthorized, "Authentication failed: invalid api_token "+q.Get("api_token"))
		return
	}
	key := r.URL.RawQuery
	if at, ok := f.lastSeen[key]; ok && f.now.Sub(at) < 60*time.Second {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		json.NewEncoder(w).Encode(map[string]any{"result_ok": false, "message": "Please wait for other requests to complete."})
		return
	}
	f.lastSeen[key] = f.now
	if f.beforeAnswer != nil {
		f.beforeAnswer(f, q)
	}
	body, msg := f.page(q)
	if msg != "" {
		f.refuse(w, http.StatusOK, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func (f *fakeAlchemer) refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"result_ok": false, "code": status, "message": msg})
}

// page answers q, or says why it is refused.
func (f *fakeAlchemer) page(q url.Values) (map[string]any, string) {
	allowed := []string{"api_token", "api_token_secret", "page", "resultsperpage", "order_by"}
	type filter struct{ field, op, value string }
	var filters []filter
	for i := 0; i < 10; i++ {
		n := strconv.Itoa(i)
		allowed = append(allowed, "filter[field]["+n+"]", "filter[operator]["+n+"]", "filter[value]["+n+"]")
		if q.Has("filter[field][" + n + "]") {
			filters = append(filters, filter{q.Get("filter[field][" + n + "]"), q.Get("filter[operator][" + n + "]"), q.Get("filter[value][" + n + "]")})
		}
	}
	for name := range q {
		if !slices.Contains(allowed, name) {
			return nil, "unknown parameter " + name
		}
	}
	page, size := 1, 50
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, "page must be a positive integer"
		}
		page = n
	}
	if s := q.Get("resultsperpage"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return nil, "resultsperpage must be between 1 and 500"
		}
		size = n
	}
	var in []*fakeResponse
	for _, it := range f.items {
		if it.visibleAt.After(f.now) || it.status == "Deleted" {
			continue
		}
		ok := true
		for _, fl := range filters {
			var v time.Time
			switch fl.field {
			case "date_updated":
				v = it.updated
			case "date_submitted":
				v = it.submitted
			case "status":
				ok = ok && ((fl.op == "=") == (it.status == fl.value))
				continue
			default:
				return nil, "cannot filter on " + fl.field
			}
			bound, err := time.ParseInLocation("2006-01-02 15:04:05", fl.value, f.zone)
			if err != nil {
				return nil, "malformed filter value"
			}
			switch fl.op {
			case ">=":
				ok = ok && !v.Before(bound)
			case ">":
				ok = ok && v.After(bound)
			case "<=":
				ok = ok && !v.After(bound)
			case "<":
				ok = ok && v.Before(bound)
			case "=":
				ok = ok && v.Equal(bound)
			default:
				return nil, "unknown operator " + fl.op
			}
		}
		if ok {
			in = append(in, it)
		}
	}
	desc := false
	order := q.Get("order_by")
	if len(order) > 0 && order[0] == '-' {
		desc, order = true, order[1:]
	}
	key := func(r *fakeResponse) time.Time { return r.submitted }
	switch order {
	case "", "date_submitted":
	case "date_updated":
		key = func(r *fakeResponse) time.Time { return r.updated }
	default:
		return nil, "cannot order by " + order
	}
	slices.SortFunc(in, func(a, b *fakeResponse) int {
		c := cmp.Or(key(a).Compare(key(b)), cmp.Compare(a.id, b.id))
		if desc {
			return -c
		}
		return c
	})
	total := len(in)
	pages := (total + size - 1) / size
	from := min((page-1)*size, total)
	data := []any{}
	for _, it := range in[from:min(from+size, total)] {
		data = append(data, f.encode(it))
	}
	return map[string]any{"result_ok": true, "total_count": total, "page": page, "total_pages": pages, "results_per_page": size, "data": data}, ""
}

func (f *fakeAlchemer) encode(r *fakeResponse) map[string]any {
	const layout = "2006-01-02 15:04:05 MST"
	return map[string]any{
		"id":             strconv.Itoa(r.id),
		"contact_id":     "",
		"status":         r.status,
		"is_test_data":   r.test,
		"date_submitted": r.submitted.In(f.zone).Format(layout),
		"date_updated":   r.updated.In(f.zone).Format(layout),
		"session_id":     fmt.Sprintf("1538059336_%d", r.id),
		"language":       "English",
		"date_started":   r.submitted.Add(-time.Minute).In(f.zone).Format(layout),
		"link_id":        "7473882",
		"url_variables":  []any{},
		"ip_address":     "192.0.2.1",
		"referer":        "",
		"user_agent":     "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari/537.36",
		"response_time":  94,
		"data_quality":   []any{},
		"longitude":      "-73.9",
		"latitude":       "40.7",
		"country":        "United States",
		"city":           "New York",
		"region":         "NY",
		"postal":         "10001",
		"dma":            "501",
		"survey_data": map[string]any{
			"2": map[string]any{"id": 2, "type": "RADIO", "question": "Colour?", "section_id": 1, "answer": "Blue", "answer_id": 10001, "shown": true},
			"3": map[string]any{"id": 3, "type": "ESSAY", "question": "Why?", "section_id": 1, "answer": r.answer, "shown": true},
			"4": map[string]any{"id": 4, "type": "CHECKBOX", "question": "Which?", "section_id": 1,
				"options": map[string]any{"10003": map[string]any{"id": 10003, "option": "Red", "answer": "Red"}, "10004": map[string]any{"id": 10004, "option": "Green", "answer": "Green"}}, "shown": true},
			"5": map[string]any{"id": 5, "type": "TEXTBOX", "question": "Hidden", "section_id": 1, "shown": false},
		},
	}
}
