package discovery

import (
	"context"
	"errors"
	"sync"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// tokenAuth authenticates to etcd with a user and password when a call
// first needs a token, not when the client is made: clientv3 given a
// username authenticates inside clientv3.New and fails there when etcd is
// out of reach, so a service with etcd credentials could not start during
// an etcd outage, as it can without them. It is the gRPC per-call
// credentials of the client's connection; the interceptors forget the
// token when etcd no longer takes it (a restarted etcd, an expired token,
// authentication turned on since), and the next call authenticates again.
type tokenAuth struct {
	user, password string

	mu    sync.Mutex
	cli   *clientv3.Client // set once the client exists
	token string
	known bool // token is what etcd gave, "" when authentication is off
}

// authenticating marks the context of tokenAuth's own Authenticate call,
// which is made without a token.
type authenticating struct{}

func (a *tokenAuth) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if ctx.Value(authenticating{}) != nil {
		return nil, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.known {
		resp, err := a.cli.Authenticate(context.WithValue(ctx, authenticating{}, true), a.user, a.password)
		switch {
		case errors.Is(err, rpctypes.ErrAuthNotEnabled):
			a.token = ""
		case errors.Is(err, rpctypes.ErrAuthFailed):
			// A status with etcd's message: gRPC passes it on, and the
			// caller sees rpctypes.ErrAuthFailed as from clientv3's own
			// authentication (the code must be one gRPC allows here).
			return nil, status.Error(codes.Unauthenticated, rpctypes.ErrAuthFailed.Error())
		case err != nil:
			return nil, err
		default:
			a.token = resp.Token
		}
		a.known = true
	}
	if a.token == "" {
		return nil, nil
	}
	return map[string]string{rpctypes.TokenFieldNameGRPC: a.token}, nil
}

// RequireTransportSecurity is false, as for clientv3's own token
// credentials: etcd's tokens go over plain connections where etcd allows
// them.
func (a *tokenAuth) RequireTransportSecurity() bool { return false }

// forget drops the token when err says etcd no longer takes it.
func (a *tokenAuth) forget(err error) {
	if err == nil {
		return
	}
	switch rpctypes.Error(err) {
	case rpctypes.ErrInvalidAuthToken, rpctypes.ErrAuthOldRevision, rpctypes.ErrUserEmpty:
		a.mu.Lock()
		a.known = false
		a.mu.Unlock()
	}
}

// dialOptions install a as the connection's credentials, with the
// interceptors that make it forget a token etcd refuses. They run inside
// clientv3's retrying interceptor, once per attempt, so its retry of an
// auth error authenticates again.
func (a *tokenAuth) dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithPerRPCCredentials(a),
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			err := invoker(ctx, method, req, reply, cc, opts...)
			if ctx.Value(authenticating{}) == nil { // that call runs with a.mu held
				a.forget(err)
			}
			return err
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			a.forget(err)
			if err != nil {
				return nil, err
			}
			return forgetfulStream{s, a}, nil
		}),
	}
}

// forgetfulStream is a stream whose token etcd may refuse only when it
// answers: a watch opened with a void token ends with the error, and the
// next one authenticates again.
type forgetfulStream struct {
	grpc.ClientStream
	a *tokenAuth
}

func (s forgetfulStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	s.a.forget(err)
	return err
}
