package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestServiceResponses(t *testing.T) {
	tests := []struct {
		name      string
		q         Query
		aggErr    error
		wantErr   error
		wantLimit int // what the aggregator is asked for
	}{
		{"default limit", Query{}, nil, nil, DefaultLimit},
		{"limit kept", Query{Limit: 3}, nil, nil, 3},
		{"invalid limit", Query{Limit: MaxLimit + 1}, nil, ErrInvalid, 0},
		{"invalid filter", Query{Filter: Filter{Device: "a\x00"}}, nil, ErrInvalid, 0},
		{"unavailable", Query{}, fmt.Errorf("%w: no replica", ErrUnavailable), ErrUnavailable, DefaultLimit},
		{"deadline", Query{}, context.DeadlineExceeded, context.DeadlineExceeded, DefaultLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agg := &stubAggregator{page: samplePage(), err: tt.aggErr}
			p, err := NewService(agg).Responses(t.Context(), tt.q)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Responses() error %v, want %v", err, tt.wantErr)
			}
			if tt.wantLimit == 0 {
				if agg.calls() != 0 {
					t.Fatal("an invalid query reached the aggregator")
				}
				return
			}
			if len(agg.queries) != 1 || agg.queries[0].Limit != tt.wantLimit {
				t.Fatalf("aggregator asked %+v, want limit %d", agg.queries, tt.wantLimit)
			}
			if err == nil && (len(p.Responses) != 1 || p.Sync.Complete || p.NextCursor == "") {
				t.Fatalf("page not passed through: %+v", p)
			}
		})
	}
}

func TestServiceStats(t *testing.T) {
	agg := &stubAggregator{stats: Stats{Total: 4}}
	svc := NewService(agg)
	if _, err := svc.Stats(t.Context(), StatsQuery{GroupBy: []string{"device", "colour"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad group_by: %v, want ErrInvalid", err)
	}
	st, err := svc.Stats(t.Context(), StatsQuery{GroupBy: []string{"device"}})
	if err != nil || st.Total != 4 || len(agg.stQueries) != 1 {
		t.Fatalf("Stats() = %+v, %v after %d calls", st, err, len(agg.stQueries))
	}
	agg.err = ErrBadGateway
	if _, err := svc.Stats(t.Context(), StatsQuery{}); !errors.Is(err, ErrBadGateway) || !strings.HasPrefix(err.Error(), "stats: ") {
		t.Fatalf("Stats() error %v, want it wrapped", err)
	}
}

func TestSyncReportIncomplete(t *testing.T) {
	if got := samplePage().Sync.Incomplete(); len(got) != 1 || got[0] != "red" {
		t.Fatalf("Incomplete() = %v, want [red]", got)
	}
}

func TestLoggingMiddlewareNamesUnsyncedProviders(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := LoggingMiddleware(logger)(NewService(&stubAggregator{page: samplePage()}))
	if _, err := svc.Responses(t.Context(), Query{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"level":"WARN"`) || !strings.Contains(out, `"unsynced_providers":["red"]`) {
		t.Fatalf("log does not name the unsynced provider: %s", out)
	}
	if strings.Contains(out, "request: 01") {
		t.Fatalf("log holds user data: %s", out)
	}
}
