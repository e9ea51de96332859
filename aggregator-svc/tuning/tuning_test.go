package tuning

import (
	"strings"
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	tests := []struct {
		key, value string
		check      func(Tuning) bool
		wantErr    string
	}{
		{"fetch_timeout", "500ms", func(t Tuning) bool { return t.FetchTimeout == 500*time.Millisecond }, ""},
		{"poll_interval", "1s", func(t Tuning) bool { return t.PollInterval == time.Second }, ""},
		{"page_size", "750", func(t Tuning) bool { return t.PageSize == 750 }, ""},
		{"max_concurrency", "3", func(t Tuning) bool { return t.MaxConcurrency == 3 }, ""},
		{"fetch_timeout", "soon", nil, "fetch_timeout: \"soon\" is not a duration"},
		{"fetch_timeout", "-1s", nil, "between 10ms and 1m0s"},
		{"poll_interval", "1ms", nil, "poll_interval"},
		{"page_size", "0", nil, "page_size: \"0\" is not an integer between 1 and 1000"},
		{"page_size", "1e3", nil, "page_size"},
		{"max_concurrency", "100000", nil, "max_concurrency"},
		{"colour", "red", nil, "colour: unknown setting"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			before := Defaults()
			got, err := before.Set(tt.key, tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != before {
					t.Fatalf("Set() = %+v, %v; want unchanged and error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Fatalf("Set() = %+v, %v", got, err)
			}
			if again, err := got.Set(tt.key, got.Get(tt.key)); err != nil || again != got {
				t.Fatalf("Get/Set round trip: %+v, %v", again, err)
			}
		})
	}
}
