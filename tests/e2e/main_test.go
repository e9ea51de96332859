// Package e2e tests xii end to end: the three services built from source
// and run as processes by the local launcher, with an embedded etcd, the
// real PostgreSQL and Jaeger built from its Go module.
package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xii/deployments/system"
	"xii/libs/launch"
	"xii/testkit/pgtest"
)

var (
	root   string // the repository
	bin    string // the built services
	jaeger string // the built Jaeger
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var err error
	if root, err = launch.Root(ctx); err != nil {
		return 1, err
	}
	if bin, err = os.MkdirTemp("", "xii-e2e-"); err != nil {
		return 1, err
	}
	defer os.RemoveAll(bin)
	if _, err := system.BuildServices(ctx, root, bin); err != nil {
		return 1, err
	}
	// The first build of Jaeger takes minutes; later ones come from the
	// build cache.
	cmd := exec.CommandContext(ctx, "go", "-C", filepath.Join(root, "observability", "jaeger"), "tool", "-n", "jaeger")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		return 1, fmt.Errorf("build jaeger: %w", err)
	}
	jaeger = strings.TrimSpace(string(out))
	return m.Run(), nil
}

// freePorts returns a Ports of distinct free ports.
func freePorts(t *testing.T) system.Ports {
	t.Helper()
	var ps [11]int
	var lns []net.Listener
	for i := range ps {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ps[i] = ln.Addr().(*net.TCPAddr).Port
	}
	for _, ln := range lns {
		ln.Close()
	}
	return system.Ports{
		Dashboard: ps[0], Blue: ps[1], Red: ps[2], Aggregator: ps[3], Etcd: ps[4], EtcdPeer: ps[5],
		JaegerOTLPGRPC: ps[6], JaegerOTLPHTTP: ps[7], JaegerQuery: ps[8], JaegerQueryGRPC: ps[9], JaegerHealth: ps[10],
	}
}

// config returns a launcher config with fresh databases and free ports.
func config(t *testing.T, withJaeger bool) system.Config {
	t.Helper()
	dbs := map[string]string{}
	for _, name := range []string{"blue", "red", "aggregate"} {
		dbs[name] = pgtest.NewDatabase(t)
	}
	internal := rand.Text()
	cfg := system.Config{
		Bin:         bin,
		StateDir:    t.TempDir(),
		DatabaseURL: func(name string) string { return dbs[name] },
		Ports:       freePorts(t),
		Log:         newTestLog(t),
		// The aggregator's API answers only the dashboard, as deployed.
		Env: map[string][]string{"aggregator": {"XII_LOG_LEVEL=warn", "XII_INTERNAL_TOKEN=" + internal}, "dashboard": {"XII_INTERNAL_TOKEN=" + internal}},
	}
	if withJaeger {
		cfg.Jaeger = jaeger
		cfg.JaegerConfig = filepath.Join(root, "observability", "jaeger", "config.yaml")
	}
	return cfg
}

// startSystem starts a whole system for t and stops it when t ends.
func startSystem(t *testing.T, withJaeger bool) *system.System {
	t.Helper()
	return startConfigured(t, config(t, withJaeger))
}

// startConfigured starts the system cfg describes and stops it when t ends.
func startConfigured(t *testing.T, cfg system.Config) *system.System {
	t.Helper()
	s, err := system.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}
