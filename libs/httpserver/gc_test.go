package httpserver

import "testing"

func TestGCSettings(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	for _, tt := range []struct {
		name       string
		lookup     func(string) (string, bool)
		memoryMax  string
		percent    int
		limitBytes int64
	}{
		{"defaults, no container limit", env(), "max\n", DefaultGOGC, 0},
		{"defaults, no cgroup file", env(), "", DefaultGOGC, 0},
		{"container limit", env(), "268435456\n", DefaultGOGC, 241591910},
		{"GOGC set, even to off", env("GOGC", "off"), "268435456", 0, 241591910},
		{"GOMEMLIMIT set", env("GOMEMLIMIT", "100MiB"), "268435456", DefaultGOGC, 0},
		{"unreadable limit", env(), "lots", DefaultGOGC, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			percent, limit := gcSettings(tt.lookup, tt.memoryMax)
			if percent != tt.percent || limit != tt.limitBytes {
				t.Errorf("gcSettings = %d, %d; want %d, %d", percent, limit, tt.percent, tt.limitBytes)
			}
		})
	}
}
