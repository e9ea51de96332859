package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"xii/deployments/system"
	"xii/libs/launch"
	"xii/libs/xiiapi"
)

// delayedName is the survey-svc instance behind the delay proxy.
const delayedName = "green"

// delayed is a third survey-svc instance that the aggregator reaches only
// through a delay proxy: every request to it waits before it is forwarded.
type delayed struct {
	url   string // green itself, for writes and its /metrics
	db    string
	proc  *launch.Process
	proxy *delayProxy
}

// startDelayed starts green with a fresh database from s, registered in
// sys's etcd with the proxy's URL as its address, and waits until the
// aggregator has synced it once.
func startDelayed(ctx context.Context, sys *system.System, s *scratch, delay time.Duration) (_ *delayed, err error) {
	db, err := s.create(ctx, "xii_load_"+delayedName+"_")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	d := &delayed{url: "http://" + addr, db: db}
	if d.proxy, err = startDelayProxy(d.url, delay); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.stop())
		}
	}()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if d.proc, err = launch.Start(sctx, sys.SurveySpec(delayedName, addr, d.proxy.url, db)); err != nil {
		return nil, fmt.Errorf("start %s: %w", delayedName, err)
	}
	if err := waitSynced(sctx, sys.URL("aggregator"), delayedName); err != nil {
		return nil, err
	}
	return d, nil
}

// stop stops green, then its proxy.
func (d *delayed) stop() error {
	var err error
	if d.proc != nil {
		err = d.proc.Stop(30 * time.Second)
	}
	return errors.Join(err, d.proxy.close())
}

// waitSynced polls the aggregator's providers until name's last round
// ended ok, or ctx is done.
func waitSynced(ctx context.Context, aggregator, name string) error {
	client := newClient(1, 5*time.Second)
	for {
		status, err := providerStatus(ctx, client, aggregator, name)
		if status == xiiapi.StatusOK {
			return nil
		}
		if serr := sleep(ctx, 100*time.Millisecond); serr != nil {
			return fmt.Errorf("aggregator has not synced %s (last status %q, %v): %w", name, status, err, serr)
		}
	}
}

// providerStatus is how the aggregator's last round of name ended.
func providerStatus(ctx context.Context, client *http.Client, aggregator, name string) (xiiapi.SyncStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, aggregator+xiiapi.ProvidersPath, nil)
	if err != nil {
		return "", fmt.Errorf("providers: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("providers: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("providers: status %d", resp.StatusCode)
	}
	var body xiiapi.ProvidersBody
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("providers: %w", err)
	}
	i := slices.IndexFunc(body.Providers, func(p xiiapi.ProviderInfo) bool { return p.Name == name })
	if i < 0 {
		return "", fmt.Errorf("providers: %s not listed", name)
	}
	return body.Providers[i].Status, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
