package xiiapi

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFilterRoundTrip(t *testing.T) {
	f := Filter{Survey: "s", Device: "iOS", Location: "Köln", Provider: "blue",
		Since: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Until: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	got, err := ParseFilter(f.Values())
	if err != nil || got != f {
		t.Fatalf("ParseFilter(Values()) = %+v, %v; want %+v", got, err, f)
	}
	if v := (Filter{}).Values(); len(v) != 0 {
		t.Errorf("empty filter encodes as %v", v)
	}
}

func TestFilterValidate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		f    Filter
		want string
	}{
		{Filter{Device: "iOS"}, ""},
		{Filter{Device: strings.Repeat("x", MaxFilterLen)}, ""},
		{Filter{Device: strings.Repeat("x", MaxFilterLen+1)}, "device: longer than 128"},
		{Filter{Survey: "\xff"}, "survey: not valid UTF-8"},
		{Filter{Provider: "a\x00"}, "provider: contains a NUL"},
		{Filter{Since: t0, Until: t0}, "since: must be before until"},
	} {
		err := tt.f.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.f, err, tt.want)
		}
	}
	if _, err := ParseFilter(Filter{}.Values()); err != nil {
		t.Error(err)
	}
}
