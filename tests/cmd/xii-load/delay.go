package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// delayHandler forwards every request to target once delay has passed
// since it arrived: a provider that is that much further away. A request
// whose client gives up while it waits is dropped without being forwarded.
func delayHandler(target *url.URL, delay time.Duration) http.Handler {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 30 * time.Second
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: t,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-timer.C:
		}
		proxy.ServeHTTP(w, r)
	})
}

// delayProxy is a running delayHandler on a loopback port.
type delayProxy struct {
	url string
	srv *http.Server
	err chan error
}

// startDelayProxy serves delayHandler(target, delay) on a free loopback port.
func startDelayProxy(target string, delay time.Duration) (*delayProxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("delay proxy: target %q: want http://host:port", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("delay proxy: listen: %w", err)
	}
	p := &delayProxy{
		url: "http://" + ln.Addr().String(),
		srv: &http.Server{
			Handler:           delayHandler(u, delay),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       90 * time.Second,
		},
		err: make(chan error, 1),
	}
	go func() { p.err <- p.srv.Serve(ln) }()
	return p, nil
}

// close stops the proxy, letting requests in flight finish for a while.
func (p *delayProxy) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if serr := <-p.err; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("delay proxy: %w", serr))
	}
	return err
}
