package chaos

import (
	"io"
	"net"
	"sync"
	"time"
)

// link is the network between the aggregators and one provider: a TCP
// proxy that can be slowed (every chunk from the provider is held back)
// or cut (connections are dropped, and new ones closed at once).
type link struct {
	target string
	ln     net.Listener

	mu    sync.Mutex
	delay time.Duration
	cut   bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newLink(target string) (*link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &link{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	l.wg.Go(l.accept)
	return l, nil
}

// url is the provider's address as the aggregators see it.
func (l *link) url() string { return "http://" + l.ln.Addr().String() }

func (l *link) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.cut {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		l.wg.Go(func() { l.forward(c) })
	}
}

func (l *link) forward(c net.Conn) {
	defer l.drop(c)
	up, err := net.DialTimeout("tcp", l.target, time.Second)
	if err != nil {
		return
	}
	l.mu.Lock()
	l.conns[up] = struct{}{}
	l.mu.Unlock()
	defer l.drop(up)
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { l.copySlowed(c, up); done <- struct{}{} }()
	<-done
}

// copySlowed copies src to dst, holding each chunk back by the link's
// delay at the time it arrives.
func (l *link) copySlowed(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			l.mu.Lock()
			d := l.delay
			l.mu.Unlock()
			if d > 0 {
				time.Sleep(d) // the injected latency itself
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (l *link) drop(c net.Conn) {
	c.Close()
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// slow holds back every chunk from the provider by d; 0 heals.
func (l *link) slow(d time.Duration) {
	l.mu.Lock()
	l.delay = d
	l.mu.Unlock()
}

// sever drops every connection and every new one until heal.
func (l *link) sever() {
	l.mu.Lock()
	l.cut = true
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
}

// heal undoes slow and sever.
func (l *link) heal() {
	l.mu.Lock()
	l.cut, l.delay = false, 0
	l.mu.Unlock()
}

func (l *link) close() {
	l.ln.Close()
	l.sever()
	l.wg.Wait()
}
