package aggregate

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"xii/libs/xiiapi"
)

// keyJSON is a Key's opaque cursor form.
type keyJSON struct {
	T time.Time `json:"t"`
	P string    `json:"p"`
	I string    `json:"i"`
}

// String encodes k as an opaque cursor.
func (k Key) String() string {
	b, _ := json.Marshal(keyJSON{T: k.CreatedAt, P: k.Provider, I: k.ProviderID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseKey decodes a cursor made by Key.String. A cursor is the client's
// to send, so every field is checked as a record's would be (text, no
// NUL, bounded); its time is read in UTC. Errors wrap ErrInvalid.
func ParseKey(s string) (*Key, error) {
	malformed := xiiapi.Invalidf("cursor: malformed; pass next_cursor from a previous page unchanged")
	if len(s) > xiiapi.MaxCursorLen {
		return nil, malformed
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, malformed
	}
	var k keyJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil || k.T.IsZero() ||
		checkString("provider", k.P, MaxProviderNameLen, true) != nil || checkString("provider id", k.I, MaxProviderIDLen, true) != nil ||
		len(k.I) > MaxProviderIDLen {
		return nil, malformed
	}
	return &Key{CreatedAt: k.T.UTC(), Provider: k.P, ProviderID: k.I}, nil
}
