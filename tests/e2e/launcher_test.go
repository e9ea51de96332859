package e2e

import (
	"context"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"xii/deployments/system"
)

// TestLauncherStopsEverything: after Stop no process is left and every
// port is free again.
func TestLauncherStopsEverything(t *testing.T) {
	cfg := config(t, true)
	s, err := system.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, name := range []string{"jaeger", "blue", "red", "aggregator", "dashboard"} {
		p := s.Process(name)
		if p == nil {
			t.Fatalf("%s not running", name)
		}
		pids = append(pids, p.Pid())
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop() = %v, want every process to exit cleanly", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d still exists after Stop", pid)
		}
	}
	p := cfg.Ports
	for _, port := range []int{p.Dashboard, p.Blue, p.Red, p.Aggregator, p.Etcd, p.EtcdPeer, p.JaegerOTLPGRPC, p.JaegerQuery} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Errorf("port %d still taken after Stop: %v", port, err)
			continue
		}
		ln.Close()
	}
}

// TestLauncherRefusesATakenPort: nothing starts, and the error names the
// port and what needed it.
func TestLauncherRefusesATakenPort(t *testing.T) {
	cfg := config(t, false)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(cfg.Ports.Aggregator))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := system.Start(context.Background(), cfg)
	if err == nil {
		s.Stop()
		t.Fatal("Start succeeded with the aggregator's port taken")
	}
	if want := "port " + strconv.Itoa(cfg.Ports.Aggregator) + " (aggregator) is taken"; !strings.Contains(err.Error(), want) {
		t.Fatalf("Start() = %v, want it to say %q", err, want)
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(cfg.Ports.Blue)); err == nil {
		c.Close()
		t.Fatal("survey blue was started although the launch was refused")
	}
}

// TestLauncherNeedsPostgres: an unreachable PostgreSQL is named before
// anything starts.
func TestLauncherNeedsPostgres(t *testing.T) {
	cfg := config(t, false)
	cfg.DatabaseURL = func(string) string { return "postgres://postgres@127.0.0.1:1/xii?sslmode=disable" }
	if _, err := system.Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "PostgreSQL unreachable at 127.0.0.1:1") {
		t.Fatalf("Start() = %v, want PostgreSQL unreachable", err)
	}
}
