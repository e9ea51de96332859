package xiiapi

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestQueryRoundTrip(t *testing.T) {
	q := Query{Filter: Filter{Device: "iOS", Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, Limit: 7, Cursor: "eyJ0IjoxfQ"}
	got, err := ParseQuery(q.Values())
	if err != nil || got != q {
		t.Fatalf("ParseQuery(Values()) = %+v, %v; want %+v", got, err, q)
	}
	sq := StatsQuery{Filter: Filter{Location: "Germany"}, GroupBy: []string{"device", "provider"}}
	gotStats, err := ParseStatsQuery(sq.Values())
	if err != nil || gotStats.Filter != sq.Filter || !slices.Equal(gotStats.GroupBy, sq.GroupBy) {
		t.Fatalf("ParseStatsQuery(Values()) = %+v, %v; want %+v", gotStats, err, sq)
	}
}

// TestEmptyParameters pins down the one rule both services follow: a
// parameter given empty is an error, not "absent", except a filter value,
// where empty means "all".
func TestEmptyParameters(t *testing.T) {
	bounds := Timeouts{Min: 10 * time.Millisecond, Default: time.Second, Max: time.Minute}
	for _, tt := range []struct {
		raw, wantErr string
		parse        func(raw string) error
	}{
		{"limit=", "limit: must be", func(raw string) error { _, err := ParseQuery(values(t, raw, QueryParams)); return err }},
		{"cursor=", "cursor: empty", func(raw string) error { _, err := ParseQuery(values(t, raw, QueryParams)); return err }},
		{"group_by=", "group_by: empty", func(raw string) error { _, err := ParseStatsQuery(values(t, raw, StatsParams)); return err }},
		{"timeout=", "timeout: must be a positive duration", func(raw string) error {
			_, err := bounds.Parse(values(t, raw, QueryParams), "")
			return err
		}},
		{"device=", "", func(raw string) error { _, err := ParseQuery(values(t, raw, QueryParams)); return err }},
	} {
		err := tt.parse(tt.raw)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v, want nil", tt.raw, err)
		case tt.wantErr != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: %v, want ErrInvalid containing %q", tt.raw, err, tt.wantErr)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		wantErr string
	}{
		{"limit 0", Query{}.Validate(), "limit: must be an integer between 1 and 1000"},
		{"limit above max", Query{Limit: MaxLimit + 1}.Validate(), "limit: must be"},
		{"cursor not base64", Query{Limit: 1, Cursor: "%%"}.Validate(), "cursor: malformed"},
		{"cursor too long", Query{Limit: 1, Cursor: strings.Repeat("A", MaxCursorLen+1)}.Validate(), "cursor: malformed"},
		{"unknown dimension", StatsQuery{GroupBy: []string{"colour"}}.Validate(), `group_by: "colour" is not one of`},
		{"dimension twice", StatsQuery{GroupBy: []string{"device", "device"}}.Validate(), `"device" given twice`},
		{"valid", Query{Limit: MaxLimit}.Validate(), ""},
	} {
		if tt.wantErr == "" {
			if tt.err != nil {
				t.Errorf("%s: %v, want nil", tt.name, tt.err)
			}
		} else if !errors.Is(tt.err, ErrInvalid) || !strings.Contains(tt.err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want ErrInvalid containing %q", tt.name, tt.err, tt.wantErr)
		}
	}
}

func values(t *testing.T, raw string, known []string) url.Values {
	t.Helper()
	v, err := ParseValues(raw, known)
	if err != nil {
		t.Fatalf("ParseValues(%q): %v", raw, err)
	}
	return v
}
