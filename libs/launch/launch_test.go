package launch

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the child process: with LAUNCH_CHILD set it
// plays the part named by its value instead of running tests.
func TestMain(m *testing.M) {
	switch os.Getenv("LAUNCH_CHILD") {
	case "":
		os.Exit(m.Run())
	case "server":
		child(true)
	case "stubborn":
		child(false)
	case "crash":
		fmt.Println("cannot start: port taken")
		os.Exit(3)
	}
}

func child(obeyTerm bool) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	ln, err := net.Listen("tcp", os.Getenv("LAUNCH_ADDR"))
	if err != nil {
		os.Exit(2)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	fmt.Println("serving")
	for {
		<-sig
		if obeyTerm {
			fmt.Println("bye")
			os.Exit(0)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func spec(t *testing.T, role string, log *lockedBuffer) (Spec, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return Spec{
		Name:     role,
		Path:     os.Args[0],
		Env:      []string{"LAUNCH_CHILD=" + role, "LAUNCH_ADDR=" + addr},
		ReadyURL: "http://" + addr + "/readyz",
		Log:      log,
	}, addr
}

func TestStartAndStop(t *testing.T) {
	var log lockedBuffer
	s, addr := spec(t, "server", &log)
	p, err := Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop() = %v, want a clean exit", err)
	}
	if out := log.String(); !strings.Contains(out, "[server]   serving") || !strings.Contains(out, "[server]   bye") {
		t.Fatalf("log not prefixed or incomplete:\n%s", out)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("port still served after Stop")
	}
}

func TestStopKillsAStubbornProcess(t *testing.T) {
	var log lockedBuffer
	s, _ := spec(t, "stubborn", &log)
	p, err := Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(100 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop() = %v, want killed", err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("process not reaped after Stop")
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	var log lockedBuffer
	s, _ := spec(t, "crash", &log)
	if _, err := Start(context.Background(), s); err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Fatalf("Start() = %v, want an early-exit error", err)
	}
	if !strings.Contains(log.String(), "port taken") {
		t.Fatalf("the child's own message is lost:\n%s", log.String())
	}
}

func TestStartGivesUpAtDeadline(t *testing.T) {
	var log lockedBuffer
	s, _ := spec(t, "server", &log)
	s.ReadyURL = "http://127.0.0.1:1/never"
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Start(ctx, s); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("Start() = %v, want not ready", err)
	}
}
