package discovery

import (
	"context"
	"sync"

	"google.golang.org/grpc"
)

// connCatcher records the gRPC connection under a go-kit etcdv3 client,
// which go-kit offers no way to close: left open, every ended session would
// keep a connection and its goroutines for good. Interceptors are handed
// the connection on every call, and go-kit's Register always makes one.
type connCatcher struct {
	mu sync.Mutex
	cc *grpc.ClientConn
}

// dialOptions install the interceptors that record the connection.
func (c *connCatcher) dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(c.unary),
		grpc.WithChainStreamInterceptor(c.stream),
	}
}

func (c *connCatcher) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.record(cc)
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (c *connCatcher) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	c.record(cc)
	return streamer(ctx, desc, cc, method, opts...)
}

func (c *connCatcher) record(cc *grpc.ClientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cc = cc
}

// close closes the recorded connection, if any. Calls still in flight
// fail.
func (c *connCatcher) close() {
	c.mu.Lock()
	cc := c.cc
	c.mu.Unlock()
	if cc != nil {
		cc.Close() // the only error is "already closed"
	}
}
