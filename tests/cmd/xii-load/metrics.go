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
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(p, "/")+"/metrics", nil)
		if err != nil {
			cancel()
			return 0, fmt.Errorf("metrics of %s: %w", p, err)
		}
		n, err := func() (int, error) {
			defer cancel()
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return 0, fmt.Errorf("status %d", resp.StatusCode)
			}
			b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			if err != nil {
				return 0, err
			}
			return parseExportCount(string(b)), nil
		}()
		if err != nil {
			return 0, fmt.Errorf("metrics of %s: %w", p, err)
		}
		total += n
	}
	return total, nil
}

// parseExportCount sums http_server_request_duration_seconds_count over
// the series of GET /api/v1/responses (every status code) in a Prometheus
// text exposition.
func parseExportCount(metrics string) int {
	n := 0
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, "http_server_request_duration_seconds_count{") ||
			!strings.Contains(line, `http_request_method="GET"`) || !strings.Contains(line, `http_route="/api/v1/responses"`) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			n += int(v)
		}
	}
	return n
}
