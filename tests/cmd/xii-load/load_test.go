package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoadStopsAtTotal(t *testing.T) {
	var calls atomic.Int64
	r := load(t.Context(), bounds{c: 3, d: time.Minute, total: 10, timeout: time.Second}, func(context.Context) error {
		if calls.Add(1)%5 == 0 {
			return &statusError{code: 503}
		}
		return nil
	})
	if calls.Load() != 10 || r.ok() != 8 || r.failed() != 2 || r.errs["HTTP 503"] != 2 {
		t.Fatalf("calls %d, ok %d, errors %v; want 10 calls, 8 ok, 2 × HTTP 503", calls.Load(), r.ok(), r.errs)
	}
}

func TestPercentile(t *testing.T) {
	r := result{}
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := r.pct(tt.p); got != tt.want {
			t.Errorf("p%g = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := (result{}).pct(50); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("get: %w", &statusError{code: 504}), "HTTP 504"},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), "timeout"},
		{context.Canceled, "cancelled"},
		{errors.New("connection refused"), "connection refused"},
	} {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestParseExportCount(t *testing.T) {
	const metrics = `# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/api/v1/responses"} 40
http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="401",http_route="/api/v1/responses"} 2
http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="201",http_route="/api/v1/responses"} 900
http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/readyz"} 7
http_server_request_duration_seconds_sum{http_request_method="GET",http_response_status_code="200",http_route="/api/v1/responses"} 1.5
`
	if got := parseExportCount(metrics); got != 42 {
		t.Fatalf("export count %d, want 42", got)
	}
}

func TestParseInts(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"1,10, 100,500", []int{1, 10, 100, 500}, false},
		{"", nil, true},
		{"1,0", nil, true},
		{"1,x", nil, true},
	} {
		got, err := parseInts(tt.in)
		if (err != nil) != tt.wantErr || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("parseInts(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSpread(t *testing.T) {
	sp := newSpread(1)
	n, match := 10000, 0
	for range n {
		r := sp.next()
		if r.Survey == "" || r.Text == "" || r.Device == "" || r.Location == "" {
			t.Fatalf("incomplete response %+v", r)
		}
		if r.Device == "iOS" && r.Location == "Germany" {
			match++
		}
	}
	// iOS (40%) in Germany (22%): about 8.8%.
	if share := float64(match) / float64(n); share < 0.07 || share > 0.11 {
		t.Fatalf("iOS in Germany is %.3f of responses, want about 0.088", share)
	}
}

func TestResultAdd(t *testing.T) {
	a := result{elapsed: time.Second, lat: []time.Duration{1, 3}, errs: map[string]int{"timeout": 1}}
	b := result{elapsed: time.Second, lat: []time.Duration{2}, errs: map[string]int{"timeout": 2, "HTTP 504": 1}}
	m := result{}.add(a).add(b)
	if m.elapsed != 2*time.Second || fmt.Sprint(m.lat) != "[1ns 2ns 3ns]" || m.errs["timeout"] != 3 || m.failed() != 4 {
		t.Fatalf("merged %+v", m)
	}
	if m.rate() != 1.5 {
		t.Fatalf("rate %v, want 1.5", m.rate())
	}
}
