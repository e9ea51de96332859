package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// exportCount sums the export requests (GET /api/v1/responses) the
// providers have served, from their /metrics.
func exportCount(ctx context.Context, client *http.Client, providers []string) (int, error) {
	total := 0
	for _, p := range providers {
		m, err := metricsOf(ctx, client, p)
		if err != nil {
			return 0, err
		}
		total += parseExportCount(m)
	}
	return total, nil
}

// fetchCount is the page fetches from providers the aggregator at base
// has made, every provider and status, from its /metrics.
func fetchCount(ctx context.Context, client *http.Client, base string) (int, error) {
	m, err := metricsOf(ctx, client, base)
	if err != nil {
		return 0, err
	}
	return parseFetchCount(m), nil
}

// metricsOf returns the Prometheus text exposition at base's /metrics.
func metricsOf(ctx context.Context, client *http.Client, base string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return "", fmt.Errorf("metrics of %s: %w", base, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("metrics of %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("metrics of %s: status %d", base, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return "", fmt.Errorf("metrics of %s: %w", base, err)
	}
	return string(b), nil
}

// parseExportCount sums http_server_request_duration_seconds_count over
// the series of GET /api/v1/responses (every status code) in a Prometheus
// text exposition.
func parseExportCount(metrics string) int {
	return sumSeries(metrics, "http_server_request_duration_seconds_count", func(line string) bool {
		return strings.Contains(line, `http_request_method="GET"`) && strings.Contains(line, `http_route="/api/v1/responses"`)
	})
}

// parseFetchCount sums xii_fetch_duration_seconds_count, the aggregator's
// page fetches, over every series (provider and status).
func parseFetchCount(metrics string) int {
	return sumSeries(metrics, "xii_fetch_duration_seconds_count", func(string) bool { return true })
}

// sumSeries sums the values of the series of metric name whose line keep
// accepts.
func sumSeries(metrics, name string, keep func(line string) bool) int {
	n := 0
	for _, line := range strings.Split(metrics, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest == "" || (rest[0] != '{' && rest[0] != ' ')) || !keep(line) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			n += int(v)
		}
	}
	return n
}
