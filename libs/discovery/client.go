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
// allows no less than ten seconds.
const keepaliveTime = 10 * time.Second

// NewClient returns an etcd client with the settings xii's services share:
// bounded dials, reconnects every RetryMax at most (gRPC's default backoff
// grows to two minutes), keepalive pings, and the client's own logging
// silenced — callers log what matters; auth's user and TLS when set. It
// does not wait for etcd.
func NewClient(endpoints []string, auth Auth) (*clientv3.Client, error) {
	cfg, err := RegistrarConfig{Endpoints: endpoints, Auth: auth, Prefix: ServicesPrefix, Name: "client", Value: "-"}.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return newClient(cfg)
}

func newClient(cfg RegistrarConfig) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    keepaliveTime,
		DialKeepAliveTimeout: cfg.DialTimeout,
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  min(retryMin, cfg.RetryMax),
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   cfg.RetryMax,
			},
			MinConnectTimeout: cfg.DialTimeout,
		})},
		Logger:   zap.NewNop(),
		Username: cfg.Auth.Username,
		Password: cfg.Auth.Password,
		TLS:      cfg.Auth.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return cli, nil
}
