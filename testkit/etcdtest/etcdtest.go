// Package etcdtest runs a real etcd server inside the test process, on
// random local ports, for integration tests.
//
// A Server can be stopped and restarted on the same ports and data, so
// clients reconnect by themselves, which is what "recovers after an etcd
// restart" tests need. Clients reach the server through a small TCP proxy
// owned by the Server: Stop cuts every client connection first, so etcd
// does not wait for open watch and keepalive streams to drain (about five
// seconds each time otherwise).
//
// Use Start from a test, or New and Close from TestMain to share one
// server among the tests of a package (clients that cannot be closed, such
// as go-kit's etcdv3 client, are then left to one server):
//
//	func TestMain(m *testing.M) {
//		srv, err := etcdtest.New()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		shared = srv
//		code := m.Run()
//		srv.Close()
//		os.Exit(code)
//	}
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// readyTimeout bounds how long a start may take; a single local member is
// ready in about a tenth of a second.
const readyTimeout = 10 * time.Second

// Server is an embedded single-member etcd cluster.
type Server struct {
	dir     string
	backend url.URL // where etcd listens for clients
	peer    url.URL
	front   *Proxy // what clients dial

	mu   sync.Mutex
	etcd *embed.Etcd // nil while stopped
}

// New starts a server outside any test, for TestMain. The caller must Close
// it.
func New() (*Server, error) {
	dir, err := os.MkdirTemp("", "etcdtest-")
	if err != nil {
		return nil, fmt.Errorf("etcdtest: data dir: %w", err)
	}
	s := &Server{dir: dir}
	if err := s.startFresh(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	front, err := listenProxy(s.backend.Host)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.front = front
	return s, nil
}

// Start starts a server for tb and closes it when tb ends. It fails tb when
// etcd cannot start: it is embedded, so there is nothing to skip for.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatalf("start etcd: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Endpoints returns the client URLs to dial.
func (s *Server) Endpoints() []string {
	return []string{s.front.Endpoint()}
}

// Stop stops the server, cutting every client connection. Data and ports
// are kept for Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.front != nil {
		s.front.Cut()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
}

// Restart starts a stopped server again on the same ports and data, or
// fails tb.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.restart(); err != nil {
		tb.Fatalf("restart etcd: %v", err)
	}
}

// Close stops the server and removes its data.
func (s *Server) Close() {
	s.Stop()
	if err := os.RemoveAll(s.dir); err != nil {
		fmt.Fprintf(os.Stderr, "etcdtest: remove data dir: %v\n", err)
	}
}

// Client returns a client of the server, closed when tb ends.
func (s *Server) Client(tb testing.TB) *clientv3.Client {
	tb.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   s.Endpoints(),
		DialTimeout: 2 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		tb.Fatalf("etcd client: %v", err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

func (s *Server) restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.etcd != nil {
		return errors.New("etcdtest: server is running")
	}
	e, err := startEtcd(s.config())
	if err != nil {
		return err
	}
	s.etcd = e
	return s.front.Restore()
}

// startFresh picks free ports and starts etcd, trying other ports when one
// was taken between picking and binding.
func (s *Server) startFresh() error {
	var err error
	for range 5 {
		if s.backend, err = freeURL(); err != nil {
			return err
		}
		if s.peer, err = freeURL(); err != nil {
			return err
		}
		var e *embed.Etcd
		e, err = startEtcd(s.config())
		if err == nil {
			s.etcd = e
			return nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) && !strings.Contains(err.Error(), "address already in use") {
			return err
		}
	}
	return err
}

func (s *Server) config() *embed.Config {
	cfg := embed.NewConfig()
	cfg.Name = "etcdtest"
	cfg.Dir = s.dir
	cfg.ListenClientUrls = []url.URL{s.backend}
	cfg.AdvertiseClientUrls = []url.URL{s.backend}
	cfg.ListenPeerUrls = []url.URL{s.peer}
	cfg.AdvertisePeerUrls = []url.URL{s.peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	cfg.UnsafeNoFsync = true // test data need not survive a power cut
	cfg.EnableGRPCGateway = false
	// Test passwords need no hashing strength; the default cost makes one
	// authentication take seconds on a busy machine under the race detector.
	cfg.BcryptCost = 4 // bcrypt.MinCost
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	return cfg
}

func startEtcd(cfg *embed.Config) (*embed.Etcd, error) {
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: start: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcdtest: start: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("etcdtest: not ready after %s", readyTimeout)
	}
}

func freeURL() (url.URL, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, fmt.Errorf("etcdtest: free port: %w", err)
	}
	defer ln.Close()
	return url.URL{Scheme: "http", Host: ln.Addr().String()}, nil
}
