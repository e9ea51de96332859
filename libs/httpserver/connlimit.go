package httpserver

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// minMaxConns is the least connection cap DefaultMaxConns returns.
const minMaxConns = 64

// DefaultMaxConns is the connection cap of one listener when none is
// configured: half the process's open-file limit, leaving the other half
// to the database pool, etcd, outgoing calls and the files a process
// opens; at least minMaxConns.
func DefaultMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 1 << 14
	}
	return max(int(lim.Cur/2), minMaxConns)
}

// refusal is what a connection over the cap is told before it is closed.
const refusal = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n" +
	"Content-Type: application/json\r\nContent-Length: 52\r\n\r\n" +
	`{"error":"too many connections","code":"overloaded"}`

// connLimiter caps a listener's open connections at max. Past three
// quarters of it, keep-alive is switched off, which closes the idle
// connections and makes every answer close its own, until the count is
// back under half; at max a new connection is answered 503 with
// Retry-After and closed, so that those being served keep their file
// descriptors and their latency.
type connLimiter struct {
	net.Listener
	max       int64
	keepAlive func(on bool) // http.Server.SetKeepAlivesEnabled

	active    atomic.Int64
	refused   atomic.Int64
	pressure  atomic.Bool   // keep-alive off
	lingering chan struct{} // refused connections being read before they close
}

func newConnLimiter(ln net.Listener, max int, keepAlive func(bool)) *connLimiter {
	return &connLimiter{Listener: ln, max: int64(max), keepAlive: keepAlive, lingering: make(chan struct{}, 64)}
}

// Accept returns the next connection under the cap, refusing those over it.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		n := l.active.Add(1)
		if n > l.max {
			l.active.Add(-1)
			l.refused.Add(1)
			l.refuse(c)
			continue
		}
		l.adjust(n)
		return &limitedConn{Conn: c, l: l}, nil
	}
}

// refuse answers c 503 and closes it, once its request has arrived: an
// answer sent before the request is one clients discard. A few refused
// connections at a time are answered so, each within a second; past that,
// they are closed at once, which clients take as a connection failure.
func (l *connLimiter) refuse(c net.Conn) {
	select {
	case l.lingering <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.lingering }()
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		req, err := http.ReadRequest(bufio.NewReaderSize(c, 4<<10))
		if err != nil {
			return
		}
		req.Body.Close()
		c.Write([]byte(refusal))
	}()
}

// adjust switches keep-alive off past three quarters of the cap and on
// again under half. It takes no lock: switching off closes idle
// connections, whose Close comes back here.
func (l *connLimiter) adjust(n int64) {
	switch {
	case n >= l.max*3/4 && l.pressure.CompareAndSwap(false, true):
		l.keepAlive(false)
	case n < l.max/2 && l.pressure.CompareAndSwap(true, false):
		l.keepAlive(true)
	default:
		return
	}
	// A switch the other way may have run in between: end as it says.
	l.keepAlive(!l.pressure.Load())
}

// limitedConn gives its place back when closed.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.adjust(c.l.active.Add(-1)) })
	return err
}
