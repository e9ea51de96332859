package etcdtest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// leakWait bounds how long Main waits for goroutines to end: gRPC releases
// a closed connection's goroutines a moment after Close returns.
const leakWait = 10 * time.Second

// Main is a TestMain for packages that share one server among their tests:
// it starts the server and stores it in *shared, runs the tests, closes the
// server, and fails the run if any goroutine outlives the tests.
//
//	var shared *etcdtest.Server
//
//	func TestMain(m *testing.M) { etcdtest.Main(m, &shared) }
func Main(m *testing.M, shared **Server) {
	srv, err := New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*shared = srv
	code := m.Run()
	srv.Close()
	if code == 0 {
		if err := NoLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// NoLeaks reports goroutines that are still running after up to ten
// seconds of looking (goleak backs off between its own retries).
func NoLeaks() error {
	deadline := time.Now().Add(leakWait)
	for {
		err := goleak.Find()
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}
