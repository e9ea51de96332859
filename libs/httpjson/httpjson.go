// Package httpjson writes the JSON answers every xii API shares, so that
// all services' errors look alike: {"error": "...", "code": "..."}.
package httpjson

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error string `json:"error"` // what is wrong, for a person
	Code  string `json:"code"`  // a stable machine-readable kind
}

// Write writes v as a JSON answer with status. The answer is encoded whole
// before anything is sent, so it goes with its Content-Length (one write,
// no chunks), and a value that cannot be encoded is an error, not half an
// answer.
func Write(w http.ResponseWriter, status int, v any) error {
	buf := buffers.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return err
	}
	return WriteEncoded(w, status, buf.Bytes())
}

// WriteEncoded writes body, JSON already encoded, as an answer with status
// and the headers Write sends.
func WriteEncoded(w http.ResponseWriter, status int, body []byte) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// buffers hold answers while they are encoded.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled keeps a rare huge answer's buffer from staying in the pool.
const maxPooled = 1 << 20

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		buffers.Put(b)
	}
}

// Error writes an error answer.
func Error(w http.ResponseWriter, status int, code, msg string) {
	_ = Write(w, status, ErrorBody{Error: msg, Code: code})
}

// StatusFunc is a service's one table from errors to an HTTP status and a
// stable error code.
type StatusFunc func(err error) (status int, code string)

// ErrorWriter returns a function that answers err as JSON with the status
// and code statusOf gives. A client error's message is the error's own
// text; for a server error (5xx) the client sees only the status text and
// the full error goes to logger. Its signature is go-kit's ErrorEncoder.
func ErrorWriter(logger *slog.Logger, statusOf StatusFunc) func(ctx context.Context, err error, w http.ResponseWriter) {
	return func(ctx context.Context, err error, w http.ResponseWriter) {
		status, code := statusOf(err)
		msg := err.Error()
		if status >= 500 {
			logger.ErrorContext(ctx, "request failed", "err", err, "status", status)
			msg = http.StatusText(status)
		}
		Error(w, status, code, msg)
	}
}
