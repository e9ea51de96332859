// Package httpjson writes the JSON answers every xii API shares, so that
// all services' errors look alike: {"error": "...", "code": "..."}.
package httpjson

import (
	"encoding/json"
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
