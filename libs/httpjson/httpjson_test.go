package httpjson

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestError(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, 400, "invalid_request", `limit: must be "small"`)
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if want := `{"error":"limit: must be \"small\"","code":"invalid_request"}` + "\n"; rec.Body.String() != want {
		t.Fatalf("body %q, want %q", rec.Body.String(), want)
	}
}

func TestErrorWriterHidesServerErrors(t *testing.T) {
	var logs bytes.Buffer
	write := ErrorWriter(slog.New(slog.NewJSONHandler(&logs, nil)), func(err error) (int, string) {
		if errors.Is(err, errBad) {
			return 400, "invalid_request"
		}
		return 500, "internal"
	})
	for _, tt := range []struct {
		err        error
		status     int
		body, logs string
	}{
		{fmt.Errorf("limit: %w", errBad), 400, `{"error":"limit: bad","code":"invalid_request"}`, ""},
		{errors.New("pq: password authentication failed for user x"), 500, `{"error":"Internal Server Error","code":"internal"}`, "password authentication failed"},
	} {
		logs.Reset()
		rec := httptest.NewRecorder()
		write(context.Background(), tt.err, rec)
		if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.body || !strings.Contains(logs.String(), tt.logs) {
			t.Errorf("%v: %d %s (logged %q); want %d %s", tt.err, rec.Code, rec.Body, logs.String(), tt.status, tt.body)
		}
		if tt.status < 500 && logs.Len() != 0 {
			t.Errorf("client error logged: %s", logs.String())
		}
	}
}

var errBad = errors.New("bad")
