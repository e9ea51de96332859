package httpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	tests := []struct{ listen, want, wantErr string }{
		{":1101", "http://127.0.0.1:1101/healthz", ""},
		{"0.0.0.0:1110", "http://127.0.0.1:1110/healthz", ""},
		{"[::]:1100", "http://127.0.0.1:1100/healthz", ""},
		{"127.0.0.2:1102", "http://127.0.0.2:1102/healthz", ""},
		{"[::1]:1102", "http://[::1]:1102/healthz", ""},
		{"1101", "", "listen-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			got, err := HealthURL(tt.listen)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("HealthURL(%q) error = %v, want %q", tt.listen, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("HealthURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
			}
		})
	}
}

// TestHealthcheckCommand runs the subcommand against a real server's
// operational routes: healthy, unready, and nothing listening.
func TestHealthcheckCommand(t *testing.T) {
	ready := false
	srv := httptest.NewServer(New(Routes{
		API: http.NotFoundHandler(),
		Ready: func(context.Context) error {
			if !ready {
				return errors.New("not yet")
			}
			return nil
		},
	}, slog.New(slog.DiscardHandler)).Handler())
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	env := func(k string) (string, bool) {
		if k == "XII_LISTEN_ADDR" {
			return ":" + port, true
		}
		return "", false
	}
	noEnv := func(string) (string, bool) { return "", false }
	closed := closedAddr(t)

	tests := []struct {
		name   string
		args   []string
		lookup func(string) (string, bool)
		want   int
	}{
		{"healthz on XII_LISTEN_ADDR's port", nil, env, 0},
		{"default listen address when XII_LISTEN_ADDR is unset", nil, noEnv, 1},
		{"explicit url", []string{"-url", srv.URL + "/healthz"}, noEnv, 0},
		{"unready", []string{"-url", srv.URL + "/readyz"}, noEnv, 1},
		{"nothing listening", []string{"-url", "http://" + closed + "/healthz"}, noEnv, 1},
		{"bad flag", []string{"-nope"}, env, 2},
		{"stray argument", []string{"now"}, env, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HealthcheckCommand(t.Context(), tt.args, closed, tt.lookup, io.Discard); got != tt.want {
				t.Errorf("exit code = %d, want %d", got, tt.want)
			}
		})
	}
	ready = true
	if got := HealthcheckCommand(t.Context(), []string{"-url", srv.URL + "/readyz"}, closed, noEnv, io.Discard); got != 0 {
		t.Errorf("ready: exit code = %d, want 0", got)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
