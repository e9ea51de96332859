package survey

import (
	"errors"
	"math"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{
		{},
		{Scan: Position{XID: 1, ID: 1}, Stable: Position{XID: 1, ID: 1}},
		{Scan: Position{XID: 900, ID: 12}, Stable: Position{XID: 800, ID: 40}},
		{Scan: Position{XID: math.MaxUint64, ID: math.MaxInt64}, Stable: Position{}},
	} {
		s := c.String()
		got, err := ParseCursor(s)
		if err != nil || got != c {
			t.Errorf("ParseCursor(%q) = %#v, %v; want %#v", s, got, err, c)
		}
	}
	if s := (Cursor{}).String(); s != "" {
		t.Errorf("zero cursor encodes as %q, want empty", s)
	}
}

func TestParseCursorRejects(t *testing.T) {
	valid := Cursor{Scan: Position{XID: 5, ID: 2}, Stable: Position{XID: 5, ID: 2}}.String()
	backwards := Cursor{Scan: Position{XID: 1, ID: 1}, Stable: Position{XID: 2, ID: 1}}
	negative := Cursor{Scan: Position{XID: 1, ID: -1}, Stable: Position{XID: 1, ID: -1}}
	for name, s := range map[string]string{
		"not base64":     "!!!",
		"short":          valid[:10],
		"long":           valid + "AA",
		"wrong version":  "Ag" + valid[2:],
		"stable > scan":  backwards.String(),
		"negative id":    negative.String(),
		"padded base64":  valid + "=",
		"very long junk": string(make([]byte, 10000)),
	} {
		if _, err := ParseCursor(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: ParseCursor(%.20q) = %v, want ErrInvalid", name, s, err)
		}
	}
}

func TestCursorAdvance(t *testing.T) {
	p := func(xid uint64, id int64) Position { return Position{XID: xid, ID: id} }
	var c Cursor
	c = c.Advance(p(10, 1), true)
	c = c.Advance(p(10, 2), true)
	if c.Frozen() || c.Stable != p(10, 2) {
		t.Fatalf("after final rows: %#v, want stable at 10/2", c)
	}
	c = c.Advance(p(12, 3), false) // an open-transaction neighbour's row
	c = c.Advance(p(13, 4), true)  // final, but after a non-final one
	if !c.Frozen() || c.Stable != p(10, 2) || c.Scan != p(13, 4) {
		t.Fatalf("after a non-final row: %#v, want scan 13/4, stable 10/2", c)
	}
	if r := c.Rewind(); r.Scan != p(10, 2) || r.Frozen() {
		t.Fatalf("Rewind() = %#v, want both at 10/2", r)
	}
}
