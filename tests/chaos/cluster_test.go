package chaos

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"xii/libs/launch"
	"xii/testkit/pgtest"
)

// Settings of the system under test, chosen so that faults longer than a
// lease are short.
const (
	registerTTL = 2 * time.Second // survey and aggregator leases
	startLimit  = 60 * time.Second
)

// etcdDirEnv makes the test binary an etcd server with its data in the
// directory it names (see TestMain): a process the test can SIGKILL.
const (
	etcdDirEnv    = "XII_CHAOS_ETCD_DIR"
	etcdClientEnv = "XII_CHAOS_ETCD_CLIENT"
	etcdPeerEnv   = "XII_CHAOS_ETCD_PEER"
)

// runEtcd serves etcd until the process is killed or told to stop.
func runEtcd() error {
	client, err := url.Parse(os.Getenv(etcdClientEnv))
	if err != nil {
		return err
	}
	peer, err := url.Parse(os.Getenv(etcdPeerEnv))
	if err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Name = "chaos"
	cfg.Dir = os.Getenv(etcdDirEnv)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-e.Err():
		return err
	case <-stop:
		return nil
	}
}

// node is one service process that faults stop, freeze and start again on
// the same address and data.
type node struct {
	name string
	spec launch.Spec

	mu   sync.Mutex
	proc *launch.Process // nil while down
}

// start runs the process and waits until it is ready.
func (n *node) start() error { return n.run(n.spec) }

// run starts spec's process as n and waits until it answers spec.ReadyURL.
func (n *node) run(spec launch.Spec) error {
	ctx, cancel := context.WithTimeout(context.Background(), startLimit)
	defer cancel()
	p, err := launch.Start(ctx, spec)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()
	return nil
}

// startAlive runs the process and returns once it serves /healthz, ready
// or not.
func (n *node) startAlive() error {
	spec := n.spec
	u, err := url.Parse(spec.ReadyURL)
	if err != nil {
		return err
	}
	u.Path = "/healthz"
	spec.ReadyURL = u.String()
	return n.run(spec)
}

// waitReady waits until the running process answers its ReadyURL.
func (n *node) waitReady() error {
	deadline := time.Now().Add(startLimit)
	for {
		resp, err := http.Get(n.spec.ReadyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s", n.name, n.spec.ReadyURL)
		}
		wait(20*time.Millisecond, nil) // polling a condition
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (n *node) kill() {
	n.mu.Lock()
	p := n.proc
	n.proc = nil
	n.mu.Unlock()
	if p == nil {
		return
	}
	syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.Done()
}

// signal sends sig to the running process.
func (n *node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil {
		n.proc.Signal(sig)
	}
}

// stop ends the process gracefully, if it runs.
func (n *node) stop() error {
	n.mu.Lock()
	p := n.proc
	n.proc = nil
	n.mu.Unlock()
	if p == nil {
		return nil
	}
	p.Signal(syscall.SIGCONT) // a frozen process cannot handle SIGTERM
	return p.Stop(20 * time.Second)
}

// cluster is the whole system under test.
type cluster struct {
	etcd     *node
	etcdURL  string
	surveys  []*node
	links    []*link
	aggs     []*node
	dash     *node
	dashURL  string
	writeURL map[string]string // provider name to its survey-svc, not through the link
}

// clusterConfig says what to start.
type clusterConfig struct {
	bin       string // the service binaries
	providers int
	log       io.Writer
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startCluster starts etcd, the providers, the aggregators and the
// dashboard, each once the ones before are ready; everything stops when t
// ends.
func startCluster(t *testing.T, cfg clusterConfig) *cluster {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{writeURL: map[string]string{}}
	etcdAddr := freePort(t)
	c.etcdURL = "http://" + etcdAddr
	c.etcd = &node{name: "etcd", spec: launch.Spec{
		Name: "etcd", Path: self,
		Env: []string{
			etcdDirEnv + "=" + filepath.Join(t.TempDir(), "etcd"),
			etcdClientEnv + "=" + c.etcdURL,
			etcdPeerEnv + "=http://" + freePort(t),
		},
		ReadyURL: c.etcdURL + "/health",
		Log:      cfg.log,
	}}
	common := []string{"XII_ETCD_ENDPOINTS=" + c.etcdURL, "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none",
		"XII_LOG_LEVEL=warn", "XII_REGISTER_TTL=" + registerTTL.String(), "XII_INTERNAL_TOKEN=" + rand.Text()}
	for i := range cfg.providers {
		name := "p" + strconv.Itoa(i+1)
		addr := freePort(t)
		l, err := newLink(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.close)
		c.links = append(c.links, l)
		c.writeURL[name] = "http://" + addr
		c.surveys = append(c.surveys, &node{name: name, spec: launch.Spec{
			Name: name, Path: filepath.Join(cfg.bin, "survey-svc"),
			Env: append([]string{"XII_NAME=" + name, "XII_LISTEN_ADDR=" + addr, "XII_ADVERTISE_URL=" + l.url(),
				"XII_POSTGRES_URL=" + pgtest.NewDatabase(t)}, common...),
			ReadyURL: "http://" + addr + "/readyz",
			Log:      cfg.log,
		}})
	}
	aggregate := pgtest.NewDatabase(t)
	for _, id := range []string{"agg-a", "agg-b"} {
		addr := freePort(t)
		c.aggs = append(c.aggs, &node{name: id, spec: launch.Spec{
			Name: id, Path: filepath.Join(cfg.bin, "aggregator-svc"),
			Env:      append([]string{"XII_ID=" + id, "XII_LISTEN_ADDR=" + addr, "XII_POSTGRES_URL=" + aggregate}, common...),
			ReadyURL: "http://" + addr + "/readyz",
			Log:      cfg.log,
		}})
	}
	dashAddr := freePort(t)
	c.dashURL = "http://" + dashAddr
	c.dash = &node{name: "dashboard", spec: launch.Spec{
		Name: "dashboard", Path: filepath.Join(cfg.bin, "dashboard-svc"),
		Env:      append([]string{"XII_LISTEN_ADDR=" + dashAddr}, common...),
		ReadyURL: c.dashURL + "/readyz",
		Log:      cfg.log,
	}}

	all := append(append(append([]*node{c.etcd}, c.surveys...), c.aggs...), c.dash)
	t.Cleanup(func() {
		for i := len(all) - 1; i >= 0; i-- {
			if err := all[i].stop(); err != nil && !strings.Contains(err.Error(), "signal: killed") {
				t.Logf("stop %s: %v", all[i].name, err)
			}
		}
	})
	for _, n := range all {
		if err := n.start(); err != nil {
			t.Fatalf("start %s: %v", n.name, err)
		}
	}
	return c
}

// restartPostgres runs the command that restarts the local PostgreSQL.
func restartPostgres(command string) error {
	out, err := exec.Command("sh", "-c", command).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", command, err, out)
	}
	return nil
}
