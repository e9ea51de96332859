package discovery

import (
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// keepaliveTime is how often an idle connection to etcd is pinged; gRPC
// allows no less than ten seconds. keepaliveTimeout is how long a ping's
// answer may take before the connection is closed, and every watch and
// lease on it with it: a few seconds is too little on a machine starved of
// CPU, where both ends answer late; a connection that is really dead is
// also noticed by the followers' progress requests.
const (
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = 10 * time.Second
)

// NewClient returns an etcd client with the settings xii's services share:
// bounded dials, reconnects every RetryMax at most (gRPC's default backoff
// grows to two minutes), keepalive pings, and the client's own logging
// silenced — callers log what matters; auth's user and TLS when set. It
// does not wait for etcd, with a user neither: the user authenticates when
// a call first needs a token, and again whenever etcd no longer takes it
// (tokenAuth).
func NewClient(endpoints []string, auth Auth) (*clientv3.Client, error) {
	cfg, err := RegistrarConfig{Endpoints: endpoints, Auth: auth, Prefix: ServicesPrefix, Name: "client", Value: "-"}.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return newClient(cfg)
}

func newClient(cfg RegistrarConfig) (*clientv3.Client, error) {
	opts := []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
		Backoff: backoff.Config{
			BaseDelay:  min(retryMin, cfg.RetryMax),
			Multiplier: 1.6,
			Jitter:     0.2,
			MaxDelay:   cfg.RetryMax,
		},
		MinConnectTimeout: cfg.DialTimeout,
	})}
	var token *tokenAuth
	if cfg.Auth.Username != "" {
		token = &tokenAuth{user: cfg.Auth.Username, password: cfg.Auth.Password}
		opts = append(opts, token.dialOptions()...)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    keepaliveTime,
		DialKeepAliveTimeout: max(cfg.DialTimeout, keepaliveTimeout),
		DialOptions:          opts,
		Logger:               zap.NewNop(),
		TLS:                  cfg.Auth.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	if token != nil {
		token.mu.Lock()
		token.cli = cli
		token.mu.Unlock()
	}
	return cli, nil
}
