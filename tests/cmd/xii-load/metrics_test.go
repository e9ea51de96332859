package main

import "testing"

func TestParseFetchCount(t *testing.T) {
	const metrics = `# TYPE xii_fetch_duration_seconds histogram
xii_fetch_duration_seconds_bucket{otel_scope_name="s",provider="blue",status="ok",le="0.005"} 20
xii_fetch_duration_seconds_count{otel_scope_name="s",provider="blue",status="ok"} 21
xii_fetch_duration_seconds_count{otel_scope_name="s",provider="green",status="timeout"} 3
xii_fetch_duration_seconds_sum{otel_scope_name="s",provider="green",status="ok"} 0.4
xii_fetch_duration_seconds_count_other{provider="red"} 1000
xii_fetch_duration_seconds_count 5
`
	if got := parseFetchCount(metrics); got != 29 {
		t.Fatalf("fetch count %d, want 29", got)
	}
}
