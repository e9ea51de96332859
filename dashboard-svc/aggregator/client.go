// Package aggregator is dashboard-svc's client of aggregator-svc. It finds
// the aggregator's replicas in etcd, where each registers its base URL
// under Prefix, and spreads calls over them:
//
//	discovery.Follow ─ replicaSet (an sd.Instancer) ─ sd.Endpointer (one
//	go-kit HTTP client endpoint per replica) ─ lb.RoundRobin ─ lb.Retry
//
// A call that cannot reach a replica, or gets a server error from it, is
// tried on the next one, as long as the request's deadline allows; a
// replica that could not be reached is passed over by the next calls for
// a second, so a killed replica whose lease has not yet run out costs
// one failed connection, not one per call; a
// rejected query, a timeout or an unusable answer is not retried. Each call
// tells the aggregator how long it may take (Request-Timeout): what the
// request has left less a measured reserve for the answer's way back
// (see budgeted); and is cancelled with the request.
//
// While etcd is unreachable the client keeps the replicas it knew.
package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/go-kit/kit/sd/lb"
	kitlog "github.com/go-kit/log"
	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/dashboard-svc/dashboard"
	"xii/libs/deadline"
	"xii/libs/discovery"
	"xii/libs/xiiapi"
)

// Prefix is where aggregator replicas register in etcd: the key
// /xii/services/aggregator/<id> holds a replica's base URL.
const Prefix = discovery.ServicesPrefix + "aggregator/"

// Defaults for a Config's zero fields.
const (
	DefaultAttempts    = 3
	DefaultEtcdTimeout = 3 * time.Second
)

// Config configures a Client.
type Config struct {
	// EtcdEndpoints are the etcd client URLs. Required.
	EtcdEndpoints []string
	// EtcdAuth is how the client proves itself to etcd; zero for none.
	EtcdAuth discovery.Auth
	// Prefix is the etcd prefix of the replicas; Prefix when empty.
	Prefix string
	// HTTPClient calls the replicas. Give it a transport that propagates
	// trace context; it should have no Timeout, as each request's deadline
	// bounds its calls. Nil: a client with NewTransport.
	HTTPClient *http.Client
	// Attempts bounds the tries of one call, over different replicas.
	Attempts int
	// Token, when set, is sent to every replica as a bearer token (the
	// aggregator's internal token).
	Token string
	// EtcdTimeout bounds the wait for the first read of the replicas in New,
	// and each read after.
	EtcdTimeout time.Duration
	// AnswerReserve is the least time a call leaves, of the request's
	// deadline, for the answer's way back (the aggregator's encoding, the
	// hop, the dashboard's decoding and its own answer); more when answers
	// came back late lately (deadline.Reserve). deadline.DefaultReserve
	// when zero.
	AnswerReserve time.Duration
	// Logger receives replica changes and discovery problems.
	Logger *slog.Logger
}

// Client calls the aggregator's replicas. It implements
// dashboard.Aggregator.
type Client struct {
	prefix      string
	etcd        *clientv3.Client
	stop        context.CancelFunc
	followed    chan struct{} // closed when following etcd ends
	replicas    *replicaSet
	endpointers []*sd.DefaultEndpointer
	responses   endpoint.Endpoint
	encoded     endpoint.Endpoint // responses, passed through as encoded
	stats       endpoint.Endpoint
	providers   endpoint.Endpoint
}

var _ dashboard.Aggregator = (*Client)(nil)

// NewTransport returns an HTTP transport fit for many concurrent calls to
// a few replicas: it keeps enough idle connections per replica.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	// Under the servers' idle timeout, so the client is the one to close.
	t.IdleConnTimeout = 20 * time.Second
	return t
}

// New starts following the replicas in etcd. It reads them once before
// returning, waiting at most EtcdTimeout; if etcd is unreachable then, the
// client starts with none and picks them up once it is. Call Close.
func New(cfg Config) (*Client, error) {
	if len(cfg.EtcdEndpoints) == 0 {
		return nil, errors.New("aggregator client: no etcd endpoints")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = Prefix
	}
	if len(cfg.Prefix) < 2 || !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("aggregator client: prefix %q must start and end with '/'", cfg.Prefix)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: NewTransport()}
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.EtcdTimeout <= 0 {
		cfg.EtcdTimeout = DefaultEtcdTimeout
	}
	if cfg.AnswerReserve <= 0 {
		cfg.AnswerReserve = deadline.DefaultReserve
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cli, err := discovery.NewClient(cfg.EtcdEndpoints, cfg.EtcdAuth)
	if err != nil {
		return nil, fmt.Errorf("aggregator client: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &Client{
		prefix:   cfg.Prefix,
		etcd:     cli,
		stop:     stop,
		followed: make(chan struct{}),
		replicas: newReplicaSet(cfg.Prefix, cfg.Logger),
	}
	go func() {
		defer close(c.followed)
		opts := discovery.FollowOptions{Logger: cfg.Logger, RequestTimeout: cfg.EtcdTimeout}
		if err := discovery.Follow(ctx, cli, cfg.Prefix, opts, c.replicas.update); err != nil {
			cfg.Logger.Error("aggregator replicas no longer followed", "err", err)
		}
	}()
	// Start with the replicas if etcd answers soon; if not, with none,
	// picking them up once it does.
	select {
	case <-c.replicas.read:
	case <-time.After(cfg.EtcdTimeout):
	}
	logger := kitLogger(cfg.Logger)
	rs := newReplicas()
	// One reserve for the three routes: the way back is the same hop.
	reserve := deadline.NewReserve(cfg.AnswerReserve)
	c.responses = c.balance(cfg, logger, factory(cfg.HTTPClient, cfg.Token, rs, reserve, xiiapi.ResponsesPath, func() answer { return new(responsesBody) }))
	// The API's answers, passed through as encoded, are never changed, so
	// the requests asking the same thing can share them (see coalescer).
	shared := newCoalescer(c.balance(cfg, logger, factory(cfg.HTTPClient, cfg.Token, rs, reserve, xiiapi.ResponsesPath, func() answer { return new(encodedResponses) })))
	shared.tracer = tracerOf
	c.encoded = shared.endpoint
	c.stats = c.balance(cfg, logger, factory(cfg.HTTPClient, cfg.Token, rs, reserve, xiiapi.StatsPath, func() answer { return new(statsBody) }))
	c.providers = c.balance(cfg, logger, factory(cfg.HTTPClient, cfg.Token, rs, reserve, xiiapi.ProvidersPath, func() answer { return new(providersBody) }))
	return c, nil
}

// balance returns the retrying, round-robin endpoint over the replicas'
// endpoints that f makes. The retry's own timeout only backs up the
// request's deadline, which always ends first.
func (c *Client) balance(cfg Config, logger kitlog.Logger, f sd.Factory) endpoint.Endpoint {
	e := sd.NewEndpointer(c.replicas, f, logger)
	c.endpointers = append(c.endpointers, e)
	return lb.RetryWithCallback(2*xiiapi.AggregatorMaxTimeout, lb.NewRoundRobin(e), retryPolicy(cfg.Attempts))
}

// Responses implements dashboard.Aggregator.
func (c *Client) Responses(ctx context.Context, q dashboard.Query) (dashboard.Page, error) {
	resp, err := c.responses(ctx, q.Values())
	if err != nil {
		return dashboard.Page{}, fmt.Errorf("aggregator responses: %w", callError(ctx, err))
	}
	b := resp.(*responsesBody)
	return dashboard.Page{Responses: b.Data, NextCursor: b.NextCursor, Sync: *b.Sync}, nil
}

// ResponsesEncoded implements dashboard.Aggregator.
func (c *Client) ResponsesEncoded(ctx context.Context, q dashboard.Query) (dashboard.EncodedPage, error) {
	resp, err := c.encoded(ctx, q.Values())
	if err != nil {
		return dashboard.EncodedPage{}, fmt.Errorf("aggregator responses: %w", callError(ctx, err))
	}
	return dashboard.EncodedPage(*resp.(*encodedResponses)), nil
}

// Stats implements dashboard.Aggregator.
func (c *Client) Stats(ctx context.Context, q dashboard.StatsQuery) (dashboard.Stats, error) {
	resp, err := c.stats(ctx, q.Values())
	if err != nil {
		return dashboard.Stats{}, fmt.Errorf("aggregator stats: %w", callError(ctx, err))
	}
	b := resp.(*statsBody)
	return dashboard.Stats{Groups: b.Groups, Total: b.Total, Truncated: b.Truncated, Sync: *b.Sync}, nil
}

// Providers implements dashboard.Aggregator: one replica's view of the
// providers and its settings.
func (c *Client) Providers(ctx context.Context) (dashboard.Providers, error) {
	resp, err := c.providers(ctx, url.Values{})
	if err != nil {
		return dashboard.Providers{}, fmt.Errorf("aggregator providers: %w", callError(ctx, err))
	}
	return dashboard.Providers(*resp.(*providersBody)), nil
}

// Replicas returns how many replicas the client knows: those of the last
// successful read of etcd.
func (c *Client) Replicas() int {
	eps, err := c.endpointers[0].Endpoints()
	if err != nil {
		return 0
	}
	return len(eps)
}

// Ready returns nil when at least one replica is known, for /readyz.
func (c *Client) Ready(context.Context) error {
	if c.Replicas() == 0 {
		return fmt.Errorf("%w: no replica registered under %s", dashboard.ErrUnavailable, c.prefix)
	}
	return nil
}

// Close stops following etcd and closes the etcd client. Calls in flight
// are not affected; make no new ones.
func (c *Client) Close() error {
	for _, e := range c.endpointers {
		e.Close()
	}
	c.stop()
	<-c.followed
	if err := c.etcd.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("aggregator client: close etcd: %w", err)
	}
	return nil
}
