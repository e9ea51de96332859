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
	for _, sq := range []StatsQuery{
		{Filter: Filter{Location: "Germany"}, GroupBy: []string{"device", "provider"}},
		{GroupBy: []string{"time", "provider"}, Interval: "1h", Top: 24},
		{Top: 1},
	} {
		gotStats, err := ParseStatsQuery(sq.Values())
		if err != nil || gotStats.Filter != sq.Filter || !slices.Equal(gotStats.GroupBy, sq.GroupBy) ||
			gotStats.Interval != sq.Interval || gotStats.Top != sq.Top {
			t.Fatalf("ParseStatsQuery(Values()) = %+v, %v; want %+v", gotStats, err, sq)
		}
		if err := gotStats.Validate(); err != nil {
			t.Fatalf("Validate(%+v): %v", sq, err)
		}
	}
}

// TestParseStatsQuery reads stats parameters as the routes do: parse,
// then validate.
func TestParseStatsQuery(t *testing.T) {
	for _, tt := range []struct {
		raw, wantErr string
		want         StatsQuery
	}{
		{raw: "group_by=time&interval=1h", want: StatsQuery{GroupBy: []string{"time"}, Interval: "1h"}},
		{raw: "group_by=provider,time&interval=1m", want: StatsQuery{GroupBy: []string{"provider", "time"}, Interval: "1m"}},
		{raw: "group_by=time,survey,device,location,provider&interval=1d&top=1000", want: StatsQuery{GroupBy: []string{"time", "survey", "device", "location", "provider"}, Interval: "1d", Top: 1000}},
		{raw: "group_by=device&top=5", want: StatsQuery{GroupBy: []string{"device"}, Top: 5}},
		{raw: "top=1", want: StatsQuery{Top: 1}},
		{raw: "group_by=time", wantErr: "interval: required with group_by=time"},
		{raw: "group_by=time&interval=2h", wantErr: `interval: "2h" is not one of 1m, 1h, 1d`},
		{raw: "group_by=time&interval=60m", wantErr: `interval: "60m" is not one of`},
		{raw: "group_by=time&interval=", wantErr: "interval: empty"},
		{raw: "group_by=device&interval=1h", wantErr: "interval: only with group_by=time"},
		{raw: "interval=1h", wantErr: "interval: only with group_by=time"},
		{raw: "group_by=time,time&interval=1h", wantErr: `"time" given twice`},
		{raw: "group_by=device&top=0", wantErr: "top: must be an integer between 1 and 1000"},
		{raw: "group_by=device&top=-1", wantErr: "top: must be"},
		{raw: "group_by=device&top=1001", wantErr: "top: must be"},
		{raw: "group_by=device&top=five", wantErr: "top: must be"},
		{raw: "group_by=device&top=", wantErr: "top: must be"},
		{raw: "group_by=device&top=1&top=2", wantErr: "top: given more than once"},
		{raw: "group_by=time&interval=1h&interval=1d", wantErr: "interval: given more than once"},
	} {
		t.Run(tt.raw, func(t *testing.T) {
			q, err := ParseValues(tt.raw, StatsParams)
			var sq StatsQuery
			if err == nil {
				if sq, err = ParseStatsQuery(q); err == nil {
					err = sq.Validate()
				}
			}
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%v, want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(sq.GroupBy, tt.want.GroupBy) || sq.Interval != tt.want.Interval || sq.Top != tt.want.Top {
				t.Fatalf("%+v, %v; want %+v", sq, err, tt.want)
			}
		})
	}
}

func TestBucketAndTimeKey(t *testing.T) {
	if got := (StatsQuery{GroupBy: []string{"time"}, Interval: "1d"}).Bucket(); got != 24*time.Hour {
		t.Errorf("Bucket(1d) = %v", got)
	}
	if got := (StatsQuery{}).Bucket(); got != 0 {
		t.Errorf("Bucket() without interval = %v", got)
	}
	berlin := time.FixedZone("CET", 3600)
	if got := TimeKey(time.Date(2026, 12, 1, 15, 0, 0, 0, berlin)); got != "2026-12-01T14:00:00Z" {
		t.Errorf("TimeKey = %q, want 2026-12-01T14:00:00Z", got)
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
