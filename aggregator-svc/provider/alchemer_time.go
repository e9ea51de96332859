package provider

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	// Alchemer's times are wall-clock times in the account's zone: the
	// adapter needs the zone rules even where the host has none installed.
	_ "time/tzdata"
)

// alchemerLayout is how Alchemer writes a time, before the zone: local
// wall-clock time in the account's zone, to the second.
const alchemerLayout = "2006-01-02 15:04:05"

// alchemerZone is a zone abbreviation Alchemer writes after a time: its
// offset from UTC, and the zone whose wall clock it belongs to, in which
// filter values are written back.
type alchemerZone struct {
	offset int // seconds east of UTC
	region string
}

// alchemerZones are the abbreviations an Alchemer account's time zone can
// show: US Eastern by default ("EST/EDT or GMT -5/GMT -4", as the API
// reference says), the other US zones, and UTC. A time with any other
// abbreviation is refused: guessing its offset could move a response by
// hours.
var alchemerZones = map[string]alchemerZone{
	"EST":  {-5 * 3600, "America/New_York"},
	"EDT":  {-4 * 3600, "America/New_York"},
	"CST":  {-6 * 3600, "America/Chicago"},
	"CDT":  {-5 * 3600, "America/Chicago"},
	"MST":  {-7 * 3600, "America/Denver"},
	"MDT":  {-6 * 3600, "America/Denver"},
	"PST":  {-8 * 3600, "America/Los_Angeles"},
	"PDT":  {-7 * 3600, "America/Los_Angeles"},
	"AKST": {-9 * 3600, "America/Anchorage"},
	"AKDT": {-8 * 3600, "America/Anchorage"},
	"HST":  {-10 * 3600, "Pacific/Honolulu"},
	"UTC":  {0, "UTC"},
	"GMT":  {0, "UTC"},
}

// defaultAlchemerRegion is the zone of an account until one of its times
// says otherwise: Alchemer's default.
const defaultAlchemerRegion = "America/New_York"

// parseAlchemerTime reads "2018-08-07 13:29:30 EDT" as the instant it
// names, and the region its zone belongs to. The zone is an abbreviation
// from alchemerZones or a numeric "GMT -4" / "GMT-4" / "GMT-04:00".
func parseAlchemerTime(s string) (time.Time, string, error) {
	s = strings.TrimSpace(s)
	if len(s) < len(alchemerLayout)+2 || s[len(alchemerLayout)] != ' ' {
		return time.Time{}, "", fmt.Errorf("want %q followed by a zone", alchemerLayout)
	}
	wall, err := time.Parse(alchemerLayout, s[:len(alchemerLayout)])
	if err != nil {
		return time.Time{}, "", fmt.Errorf("want %q followed by a zone", alchemerLayout)
	}
	abbr := strings.TrimSpace(s[len(alchemerLayout)+1:])
	offset, region, err := alchemerOffset(abbr)
	if err != nil {
		return time.Time{}, "", err
	}
	return wall.Add(-time.Duration(offset) * time.Second).UTC(), region, nil
}

// alchemerOffset is the offset and region of a zone as Alchemer writes it.
func alchemerOffset(abbr string) (int, string, error) {
	if z, ok := alchemerZones[abbr]; ok {
		return z.offset, z.region, nil
	}
	rest, ok := strings.CutPrefix(abbr, "GMT")
	if !ok {
		rest, ok = strings.CutPrefix(abbr, "UTC")
	}
	rest = strings.TrimSpace(rest)
	if ok && len(rest) >= 2 && (rest[0] == '+' || rest[0] == '-') {
		h, m, _ := strings.Cut(rest[1:], ":")
		hours, err1 := strconv.Atoi(h)
		mins := 0
		var err2 error
		if m != "" {
			mins, err2 = strconv.Atoi(m)
		}
		if err1 == nil && err2 == nil && hours <= 14 && mins < 60 && len(h) <= 2 {
			off := hours*3600 + mins*60
			if rest[0] == '-' {
				off = -off
			}
			switch off {
			case -5 * 3600, -4 * 3600:
				// Alchemer's other way of writing EST and EDT: filter
				// values then follow US Eastern across its changes.
				return off, defaultAlchemerRegion, nil
			case 0:
				return 0, "UTC", nil
			}
			return off, "", nil
		}
	}
	return 0, "", fmt.Errorf("unknown time zone %q: want one of EST, EDT, CST, CDT, MST, MDT, PST, PDT, AKST, AKDT, HST, UTC, GMT or GMT±H", printable(abbr, 16))
}

// formatAlchemerFilter writes t as a filter value on the wall clock of
// region (a fixed-offset zone, "", keeps the offset given). Within an hour
// of a change of offset the wall clock is ambiguous, and Alchemer could
// read the value an hour late; the bound is then moved an hour earlier,
// which costs a few responses read twice instead of an hour skipped. It
// returns the value and the instant it was written for.
func formatAlchemerFilter(t time.Time, region string, fixedOffset int) (string, time.Time) {
	loc := time.FixedZone("", fixedOffset)
	if region != "" {
		if l, err := time.LoadLocation(region); err == nil {
			loc = l
		}
	}
	_, before := t.Add(-time.Hour).In(loc).Zone()
	_, after := t.Add(time.Hour).In(loc).Zone()
	if before != after {
		t = t.Add(-time.Hour)
	}
	return t.In(loc).Format(alchemerLayout), t
}
