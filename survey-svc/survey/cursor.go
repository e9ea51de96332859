package survey

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// Position is a place in the export order: responses are exported ordered by
// the id of the transaction that inserted them (XID, a PostgreSQL xid8), then
// by their own ID.
type Position struct {
	XID uint64
	ID  int64
}

// Less reports whether p comes before q in the export order.
func (p Position) Less(q Position) bool {
	return p.XID < q.XID || (p.XID == q.XID && p.ID < q.ID)
}

// Cursor is where an export resumes. It is opaque to clients.
//
// Why not "id > last_id": ids come from a sequence when a row is inserted, but
// rows become visible when their transaction commits, and concurrent
// transactions commit out of id order. An exporter that has seen id 7 may
// later find id 6 committed; an id cursor would skip it forever.
//
// The scheme: every row records the id of its inserting transaction (xid8).
// Transaction ids are handed out in increasing order, and PostgreSQL tells us
// the horizon xmin (pg_snapshot_xmin of the current snapshot): every
// transaction below it has finished. So the rows below the horizon are final:
// nothing can ever appear before them in (XID, ID) order. A page returns every
// committed row after Scan, including those at or above the horizon (a write
// acknowledged to its client must reach the next export even while an older
// transaction is still open), but Stable only advances over rows below the
// horizon, and only while every row scanned so far was below it. When the
// export is caught up (HasMore false), the next cursor restarts at Stable, so
// rows at or above the horizon are exported again until they fall below it.
// Delivery is therefore at least once and never skips; consumers make it
// exactly once by upserting on the response id.
type Cursor struct {
	Scan   Position // last row returned
	Stable Position // every row at or before it has been returned and is final
}

// Frozen reports whether the scan has passed a row that was not yet final:
// Stable then stays where it is until the export is caught up.
func (c Cursor) Frozen() bool { return c.Stable != c.Scan }

// Rewind returns the cursor the next sync starts from once caught up.
func (c Cursor) Rewind() Cursor { return Cursor{Scan: c.Stable, Stable: c.Stable} }

// Advance moves c past a returned row; final reports whether the row's
// transaction was below the horizon when it was read.
func (c Cursor) Advance(row Position, final bool) Cursor {
	if !c.Frozen() && final {
		return Cursor{Scan: row, Stable: row}
	}
	return Cursor{Scan: row, Stable: c.Stable}
}

const (
	cursorVersion = 1
	cursorLen     = 1 + 4*8
)

var cursorEncoding = base64.RawURLEncoding

// String encodes c as an opaque URL-safe token. The zero cursor encodes as "".
func (c Cursor) String() string {
	if c == (Cursor{}) {
		return ""
	}
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, c.Scan.XID)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Scan.ID))
	b = binary.BigEndian.AppendUint64(b, c.Stable.XID)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Stable.ID))
	return cursorEncoding.EncodeToString(b)
}

// ParseCursor decodes a token made by Cursor.String. The empty token is the
// zero cursor. Errors wrap ErrInvalid.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	if len(s) > cursorEncoding.EncodedLen(cursorLen) {
		return Cursor{}, invalidf("cursor: malformed")
	}
	b, err := cursorEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return Cursor{}, invalidf("cursor: malformed")
	}
	c := Cursor{
		Scan:   Position{XID: binary.BigEndian.Uint64(b[1:]), ID: int64(binary.BigEndian.Uint64(b[9:]))},
		Stable: Position{XID: binary.BigEndian.Uint64(b[17:]), ID: int64(binary.BigEndian.Uint64(b[25:]))},
	}
	if c.Scan.ID < 0 || c.Stable.ID < 0 || c.Scan.Less(c.Stable) {
		return Cursor{}, invalidf("cursor: malformed")
	}
	return c, nil
}

// GoString keeps cursors readable in test failures.
func (c Cursor) GoString() string {
	return fmt.Sprintf("Cursor{Scan:%d/%d Stable:%d/%d}", c.Scan.XID, c.Scan.ID, c.Stable.XID, c.Stable.ID)
}
