package etcdtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections from a local address to a target. Cut
// severs a client from etcd without stopping etcd, as a network partition
// or a frozen process would.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy starts a proxy to endpoint, a client URL such as one of
// Server.Endpoints, for tb and closes it when tb ends.
func NewProxy(tb testing.TB, endpoint string) *Proxy {
	tb.Helper()
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		tb.Fatalf("proxy target %q is not a URL with a host", endpoint)
	}
	p, err := listenProxy(u.Host)
	if err != nil {
		tb.Fatalf("start proxy: %v", err)
	}
	tb.Cleanup(p.Cut)
	return p
}

func listenProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("etcdtest: proxy listen: %w", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	return p, nil
}

// Endpoint returns the proxy's URL, for an etcd client.
func (p *Proxy) Endpoint() string { return "http://" + p.addr }

// Cut closes the listener, so new connections are refused, and every
// forwarded connection. It returns when all of them are closed.
func (p *Proxy) Cut() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Restore listens again on the same address after Cut.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	running := p.ln != nil
	p.mu.Unlock()
	if running {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("etcdtest: proxy listen again: %w", err)
	}
	p.serve(ln)
	return nil
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			p.forward(c)
		}
	})
}

// forward pipes c to a new connection to the target until either side ends.
func (p *Proxy) forward(c net.Conn) {
	t, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		t.Close()
		return
	}
	p.conns[c], p.conns[t] = struct{}{}, struct{}{}
	p.mu.Unlock()

	var once sync.Once
	done := func() {
		once.Do(func() {
			c.Close()
			t.Close()
			p.mu.Lock()
			delete(p.conns, c)
			delete(p.conns, t)
			p.mu.Unlock()
		})
	}
	p.wg.Go(func() { io.Copy(t, c); done() })
	p.wg.Go(func() { io.Copy(c, t); done() })
}
