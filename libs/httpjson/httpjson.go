// Package httpjson writes the JSON answers every xii API shares, so that
// all services' errors look alike: {"error": "...", "code": "..."}.
package httpjson

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error string `json:"error"` // what is wrong, for a person
	Code  string `json:"code"`  // a stable machine-readable kind
}

// Write writes v as a JSON answer with status.
func Write(w http.ResponseWriter, status int, v any) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
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
