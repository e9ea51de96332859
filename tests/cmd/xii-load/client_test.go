package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestClientSendsTheToken(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }))
	defer srv.Close()
	t.Setenv(tokenEnv, "s3cret")
	if _, err := send(t.Context(), newClient(1, time.Second), "GET", srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	if got != "Bearer s3cret" {
		t.Errorf("Authorization %q, want the token from %s", got, tokenEnv)
	}
	t.Setenv(tokenEnv, "")
	if _, err := send(t.Context(), newClient(1, time.Second), "GET", srv.URL, nil); err != nil || got != "" {
		t.Errorf("without %s: Authorization %q, %v; want none", tokenEnv, got, err)
	}
}
