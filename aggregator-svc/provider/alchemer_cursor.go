package provider

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// alchemerCursorPrefix starts every Alchemer cursor (and versions it).
const alchemerCursorPrefix = "al1."

// maxAlchemerSeen bounds the responses a cursor remembers; the cursor then
// stays within MaxCursorLen. Past it the oldest are forgotten, and are sent
// again (harmlessly: the aggregate upserts) while they stay in the window.
const maxAlchemerSeen = 96

// alchemerCursor is where an Alchemer sync stands. Alchemer pages by
// number over a result set that changes while it is paged, so the cursor
// is not a page number but a position in date_updated order (see
// alchemerSource), plus the responses already sent that the next reads
// will see again.
type alchemerCursor struct {
	// Restart is where every round's walk starts: date_updated >= Restart
	// (Unix seconds; 0 for the whole survey). It is the server's time at
	// the start of the last round that completed and sent something,
	// minus the overlap.
	Restart int64
	// Walk is the current round's position: Start is the server's time of
	// its first answer, Lower its filter's bound and Page the page number
	// over it. Page is 0 between rounds.
	Start, Lower int64
	Page         int
	// Sent: the round has sent a response not sent before.
	Sent bool
	// Zone is how the account writes times, to write filter values the
	// same way: an index into alchemerRegions, or -1 for the fixed offset
	// Offset (seconds east of UTC).
	Zone   int
	Offset int
	// Seen are the responses already sent that still lie in the window.
	Seen []alchemerSeen
}

// alchemerSeen is one response sent: its id, date_updated and a hash of
// its content as sent. A response is sent again unless all three match: an
// update within the same second changes the hash.
type alchemerSeen struct {
	ID      uint64 // at most 1<<63-1
	Updated int64
	Hash    uint32
}

// alchemerRegions are the zones a cursor can name, by index.
var alchemerRegions = []string{defaultAlchemerRegion, "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "UTC"}

func (c *alchemerCursor) region() (string, int) {
	if c.Zone >= 0 && c.Zone < len(alchemerRegions) {
		return alchemerRegions[c.Zone], 0
	}
	return "", c.Offset
}

func (c *alchemerCursor) setZone(region string, offset int) {
	if i := slices.Index(alchemerRegions, region); i >= 0 {
		c.Zone, c.Offset = i, 0
		return
	}
	c.Zone, c.Offset = -1, offset
}

func (c *alchemerCursor) seen(id uint64, hash uint32) bool {
	return slices.ContainsFunc(c.Seen, func(s alchemerSeen) bool { return s.ID == id && s.Hash == hash })
}

// remember adds a response sent, replacing what was remembered of it.
func (c *alchemerCursor) remember(s alchemerSeen) {
	c.Seen = slices.DeleteFunc(c.Seen, func(o alchemerSeen) bool { return o.ID == s.ID })
	c.Seen = append(c.Seen, s)
}

// prune forgets the responses before Restart, which no read will return
// again, and the oldest past maxAlchemerSeen.
func (c *alchemerCursor) prune() {
	c.Seen = slices.DeleteFunc(c.Seen, func(s alchemerSeen) bool { return s.Updated < c.Restart })
	slices.SortFunc(c.Seen, func(a, b alchemerSeen) int {
		return cmp.Or(cmp.Compare(a.Updated, b.Updated), cmp.Compare(a.ID, b.ID))
	})
	if n := len(c.Seen); n > maxAlchemerSeen {
		c.Seen = c.Seen[n-maxAlchemerSeen:]
	}
}

// encode writes c compactly: "al1." and the URL-safe base64 of varints.
func (c *alchemerCursor) encode() string {
	c.prune()
	b := make([]byte, 0, 32+len(c.Seen)*12)
	b = binary.AppendVarint(b, c.Restart)
	b = binary.AppendVarint(b, c.Start)
	b = binary.AppendVarint(b, c.Lower)
	b = binary.AppendUvarint(b, uint64(c.Page))
	sent := uint64(0)
	if c.Sent {
		sent = 1
	}
	b = binary.AppendUvarint(b, sent)
	b = binary.AppendVarint(b, int64(c.Zone))
	b = binary.AppendVarint(b, int64(c.Offset))
	b = binary.AppendUvarint(b, uint64(len(c.Seen)))
	// Sorted by (Updated, ID): each as the difference from the one before,
	// a byte or two for a busy survey's neighbours.
	prevU, prevID := c.Restart, int64(0)
	for _, s := range c.Seen {
		b = binary.AppendVarint(b, s.Updated-prevU)
		b = binary.AppendVarint(b, int64(s.ID)-prevID)
		b = binary.BigEndian.AppendUint32(b, s.Hash)
		prevU, prevID = s.Updated, int64(s.ID)
	}
	out := alchemerCursorPrefix + base64.RawURLEncoding.EncodeToString(b)
	if len(out) > MaxCursorLen && len(c.Seen) > 0 {
		// Ids far apart: forget the oldest until it fits.
		c.Seen = c.Seen[max(1, len(c.Seen)/8):]
		return c.encode()
	}
	return out
}

var errAlchemerCursor = errors.New("cursor: not an alchemer cursor")

// decodeAlchemerCursor reads a cursor encode wrote; "" is the start.
func decodeAlchemerCursor(s string) (alchemerCursor, error) {
	if s == "" {
		return alchemerCursor{}, nil
	}
	raw, ok := strings.CutPrefix(s, alchemerCursorPrefix)
	if !ok || len(s) > MaxCursorLen {
		return alchemerCursor{}, errAlchemerCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return alchemerCursor{}, errAlchemerCursor
	}
	r := cursorReader{b: b}
	c := alchemerCursor{Restart: r.varint(), Start: r.varint(), Lower: r.varint(), Page: int(r.uvarint())}
	c.Sent = r.uvarint() == 1
	c.Zone, c.Offset = int(r.varint()), int(r.varint())
	n := r.uvarint()
	if r.err != nil || n > maxAlchemerSeen || c.Page < 0 || c.Page > maxAlchemerPage {
		return alchemerCursor{}, errAlchemerCursor
	}
	prevU, prevID := c.Restart, int64(0)
	for range n {
		s := alchemerSeen{Updated: prevU + r.varint()}
		id := prevID + r.varint()
		s.ID, s.Hash = uint64(id), r.uint32()
		if id <= 0 {
			return alchemerCursor{}, errAlchemerCursor
		}
		c.Seen = append(c.Seen, s)
		prevU, prevID = s.Updated, id
	}
	if r.err != nil || len(r.b) != 0 {
		return alchemerCursor{}, errAlchemerCursor
	}
	return c, nil
}

// cursorReader reads varints until the first error, which it keeps.
type cursorReader struct {
	b   []byte
	err error
}

func (r *cursorReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("malformed varint")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cursorReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("malformed uvarint")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cursorReader) uint32() uint32 {
	if len(r.b) < 4 {
		r.err = fmt.Errorf("short")
		r.b = nil
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}
