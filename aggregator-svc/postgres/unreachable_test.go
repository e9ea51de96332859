package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"xii/aggregator-svc/aggregate"
	"xii/testkit/pgtest"
)

// TestReadWithoutTheDatabaseIsUnavailable: when PostgreSQL cannot be
// reached (a restart, a failover), reads fail with aggregate.ErrUnavailable,
// which the aggregator answers 503 (worth retrying), not as a failure of
// the request (500).
func TestReadWithoutTheDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	s, err := Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Query(t.Context(), aggregate.Query{Limit: 1}); err != nil {
		t.Fatalf("query through the proxy: %v", err)
	}

	p.cut() // the pool's connections die, and no new one can be made
	for name, read := range map[string]func(context.Context) error{
		"query": func(ctx context.Context) error { _, err := s.Query(ctx, aggregate.Query{Limit: 10}); return err },
		"stats": func(ctx context.Context) error { _, err := s.Stats(ctx, aggregate.StatsQuery{}); return err },
	} {
		if err := read(t.Context()); !errors.Is(err, aggregate.ErrUnavailable) {
			t.Errorf("%s without the database: %v, want aggregate.ErrUnavailable", name, err)
		}
	}
}

// proxy forwards TCP connections to a target until cut.
type proxy struct {
	addr string
	ln   net.Listener
	mu   sync.Mutex
	open []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.open = append(p.open, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

// cut closes the listener and every forwarded connection.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		c.Close()
	}
	p.open = nil
}
