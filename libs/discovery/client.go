package discovery

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// NewClient returns an etcd client with the settings xii's services share:
// bounded dials, reconnects every RetryMax at most (gRPC's default backoff
// grows to two minutes), keepalive pings, and the client's own logging
// silenced — callers log what matters. It does not wait for etcd.
func NewClient(endpoints []string) (*clientv3.Client, error) {
	cfg, err := RegistrarConfig{Endpoints: endpoints, Prefix: ServicesPrefix, Name: "client", Value: "-"}.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    keepaliveTime,
		DialKeepAliveTimeout: cfg.DialTimeout,
		DialOptions:          dialOptions(cfg),
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return cli, nil
}
