package survey

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBodyFailuresAreTheClients: a body cut short, malformed chunked
// encoding and a body trickled slower than the server's read deadline are
// the client's doing: 400 and 408, nothing stored, and no error logged
// (each was a 500 with an ERROR line before).
func TestBodyFailuresAreTheClients(t *testing.T) {
	var logs bytes.Buffer
	repo := newMemRepo()
	srv := httptest.NewUnstartedServer(NewHTTPHandler(MakeEndpoints(NewService(repo)), HTTPOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	const head = "POST /api/v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
	const body = `{"text":"t","device":"d","location":"l"}`
	for _, tt := range []struct {
		name    string
		send    func(c net.Conn)
		status  int
		inError string
	}{
		{"truncated", func(c net.Conn) {
			c.Write([]byte(head + "Content-Length: 100\r\n\r\n" + body[:10]))
			c.(*net.TCPConn).CloseWrite()
		}, http.StatusBadRequest, "cut short or malformed"},
		{"malformed chunked", func(c net.Conn) {
			c.Write([]byte(head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n"))
		}, http.StatusBadRequest, "cut short or malformed"},
		{"trickled", func(c net.Conn) {
			c.Write([]byte(head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
			for i := range len(body) {
				if _, err := c.Write([]byte{body[i]}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond) // slower than the read deadline allows, as a slow client is
			}
		}, http.StatusRequestTimeout, "request_timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go tt.send(c)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(b.String(), tt.inError) {
				t.Errorf("%d %s; want %d with %q", resp.StatusCode, b.String(), tt.status, tt.inError)
			}
		})
	}
	if len(repo.rows) != 0 {
		t.Errorf("%d rows stored, want none", len(repo.rows))
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("client failures logged as errors:\n%s", logs.String())
	}
}
