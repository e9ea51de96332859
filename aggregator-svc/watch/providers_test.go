package watch_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"xii/aggregator-svc/watch"
	"xii/libs/discovery"
	"xii/testkit/wait"
	"xii/testkit/watchtest"
)

// providers is a running watch.Providers and what it reports.
type providers struct {
	sets   *recorder[map[string]watch.Provider]
	reader *sdkmetric.ManualReader
	logs   *watchtest.Logs
}

// startProviders runs watch.Providers on cli until t ends. It asks etcd
// for progress after quiet 200ms, unless progress says otherwise.
func startProviders(t *testing.T, cli *clientv3.Client, progress ...time.Duration) *providers {
	t.Helper()
	p := &providers{
		sets:   newRecorder[map[string]watch.Provider](),
		reader: sdkmetric.NewManualReader(),
		logs:   &watchtest.Logs{},
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(p.reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	opts := watch.Options{
		Follow: discovery.FollowOptions{
			Logger:           p.logs.Logger(),
			RequestTimeout:   500 * time.Millisecond,
			RetryMax:         200 * time.Millisecond,
			ProgressInterval: 200 * time.Millisecond,
		},
		MeterProvider: mp,
	}
	for _, d := range progress {
		opts.Follow.ProgressInterval = d
	}
	watchtest.Go(t, func(ctx context.Context) error {
		return watch.Providers(ctx, cli, opts, p.sets.record)
	})
	return p
}

// waitFor waits up to within for the set to be exactly want, name to URL.
func (p *providers) waitFor(t *testing.T, within time.Duration, want map[string]string) {
	t.Helper()
	p.sets.wait(t, within, fmt.Sprintf("providers %v", want), func(got map[string]watch.Provider) bool {
		return sameSet(got, want)
	})
}

func (p *providers) rejected(t *testing.T, reason string) int64 {
	t.Helper()
	return watchtest.Counter(t, p.reader, "xii.discovery.rejected", "reason", reason)
}

// onlyChanges fails t if a set was delivered twice in a row.
func (p *providers) onlyChanges(t *testing.T) {
	t.Helper()
	sets := p.sets.history()
	for i := 1; i < len(sets); i++ {
		if maps.Equal(sets[i], sets[i-1]) {
			t.Errorf("set %d of %d delivered again unchanged: %v", i+1, len(sets), sets[i])
		}
	}
}

// misconfigured, as the URL a test wants, stands for a provider delivered
// with a Problem.
const misconfigured = "(misconfigured)"

// sameSet reports whether got holds exactly the providers of want, name
// to URL or misconfigured.
func sameSet(got map[string]watch.Provider, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for name, url := range want {
		p, ok := got[name]
		if !ok {
			return false
		}
		if url == misconfigured {
			if p.Problem == "" {
				return false
			}
			continue
		}
		if p.Problem != "" || p.Descriptor.URL != url || p.Descriptor.Dialect != discovery.DialectXII {
			return false
		}
	}
	return true
}

// putProvider writes a valid descriptor for name, under lease unless it is
// 0.
func putProvider(t *testing.T, cli *clientv3.Client, name, url string, lease clientv3.LeaseID) {
	t.Helper()
	v, err := discovery.Descriptor{URL: url, Dialect: discovery.DialectXII}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var opts []clientv3.OpOption
	if lease != clientv3.NoLease {
		opts = append(opts, clientv3.WithLease(lease))
	}
	if _, err := cli.Put(t.Context(), discovery.ProviderKey(name), v, opts...); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func TestProvidersInitialSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		put  map[string]string // key under the prefix to raw value
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"two", map[string]string{
			"blue": `{"url":"http://127.0.0.1:1101","dialect":"xii-v1"}`,
			"red":  `{"url":"http://127.0.0.1:1102","dialect":"xii-v1","extra":1}`,
		}, map[string]string{"blue": "http://127.0.0.1:1101", "red": "http://127.0.0.1:1102"}},
		{"valid and malformed", map[string]string{
			"blue":   `{"url":"http://127.0.0.1:1101","dialect":"xii-v1"}`,
			"broken": `{"url":`,
		}, map[string]string{"blue": "http://127.0.0.1:1101", "broken": misconfigured}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cli := watchtest.NamespacedClient(t, shared.Endpoints())
			for k, v := range tt.put {
				if _, err := cli.Put(t.Context(), discovery.ProvidersPrefix+k, v); err != nil {
					t.Fatal(err)
				}
			}
			p := startProviders(t, cli)
			p.waitFor(t, waitLimit, tt.want)
			if first := p.sets.history()[0]; !sameSet(first, tt.want) {
				t.Errorf("first set %v, want %v", first, tt.want)
			}
		})
	}
}

func TestProvidersFollowChanges(t *testing.T) {
	t.Parallel()
	cli := watchtest.NamespacedClient(t, shared.Endpoints())
	putProvider(t, cli, "blue", "http://blue:1101", clientv3.NoLease)
	p := startProviders(t, cli)
	p.waitFor(t, waitLimit, map[string]string{"blue": "http://blue:1101"})

	var lease clientv3.LeaseID
	steps := []struct {
		name   string
		change func(t *testing.T)
		want   map[string]string
	}{
		{"put without lease", func(t *testing.T) {
			putProvider(t, cli, "acme", "https://acme.example", clientv3.NoLease)
		}, map[string]string{"blue": "http://blue:1101", "acme": "https://acme.example"}},
		{"leased registration", func(t *testing.T) {
			resp, err := cli.Grant(t.Context(), 60)
			if err != nil {
				t.Fatal(err)
			}
			lease = resp.ID
			putProvider(t, cli, "red", "http://red:1102", lease)
		}, map[string]string{"blue": "http://blue:1101", "acme": "https://acme.example", "red": "http://red:1102"}},
		{"lease revoked", func(t *testing.T) {
			if _, err := cli.Revoke(t.Context(), lease); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"blue": "http://blue:1101", "acme": "https://acme.example"}},
		{"del", func(t *testing.T) {
			if _, err := cli.Delete(t.Context(), discovery.ProviderKey("acme")); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"blue": "http://blue:1101"}},
		{"descriptor changed", func(t *testing.T) {
			putProvider(t, cli, "blue", "http://blue:2101", clientv3.NoLease)
		}, map[string]string{"blue": "http://blue:2101"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			p.waitFor(t, visible, st.want)
		})
	}
	p.onlyChanges(t)
	if lines := p.logs.Lines("etcd prefix not followed"); len(lines) > 0 {
		t.Errorf("the watch failed while etcd was up:\n%s", lines)
	}
}

// A bad value is a misconfigured provider, delivered with its problem; a
// bad name is no provider at all.
func TestProvidersReportMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value, reason string
		want                     map[string]string // besides "late", added after
	}{
		{"bad json", "broken", `{"url":"http://x"`, "descriptor", map[string]string{"good": "http://good:1", "broken": misconfigured}},
		{"unknown dialect", "odd", `{"url":"http://x","dialect":"surveymonkey"}`, "descriptor", map[string]string{"good": "http://good:1", "odd": misconfigured}},
		{"relative url", "rel", `{"url":"/export","dialect":"xii-v1"}`, "descriptor", map[string]string{"good": "http://good:1", "rel": misconfigured}},
		{"url with credentials", "creds", `{"url":"https://u:p@x","dialect":"typeform"}`, "descriptor", map[string]string{"good": "http://good:1", "creds": misconfigured}},
		{"name starting with a dot", ".hidden", `{"url":"http://x","dialect":"xii-v1"}`, "name", map[string]string{"good": "http://good:1"}},
		{"nested key", "a/b", `{"url":"http://x","dialect":"xii-v1"}`, "name", map[string]string{"good": "http://good:1"}},
		{"overwrites a valid provider", "good", `not json`, "descriptor", map[string]string{"good": misconfigured}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cli := watchtest.NamespacedClient(t, shared.Endpoints())
			putProvider(t, cli, "good", "http://good:1", clientv3.NoLease)
			p := startProviders(t, cli)
			p.waitFor(t, waitLimit, map[string]string{"good": "http://good:1"})

			key := discovery.ProvidersPrefix + tt.key
			if _, err := cli.Put(t.Context(), key, tt.value); err != nil {
				t.Fatal(err)
			}
			wait.ForNil(t, "rejection counted", func() error {
				if n := p.rejected(t, tt.reason); n != 1 {
					return fmt.Errorf("xii.discovery.rejected{reason=%s} = %d, want 1", tt.reason, n)
				}
				return nil
			}, wait.Within(visible))
			p.waitFor(t, visible, tt.want)

			// Others keep flowing, and the rejected key is not counted again.
			putProvider(t, cli, "late", "http://late:1", clientv3.NoLease)
			want := maps.Clone(tt.want)
			want["late"] = "http://late:1"
			p.waitFor(t, visible, want)
			if n := p.rejected(t, tt.reason); n != 1 {
				t.Errorf("rejection counted %d times, want once", n)
			}
			if lines := p.logs.Lines(`"etcd_key":"`+key+`"`, `"reason":"`+tt.reason+`"`); len(lines) != 1 {
				t.Errorf("%d log lines name %s with reason %s, want 1; log:\n%s", len(lines), key, tt.reason, p.logs)
			}
			p.onlyChanges(t)
			for _, set := range p.sets.history() {
				for name := range set {
					if _, ok := want[name]; !ok {
						t.Errorf("key delivered as provider %q: %v", name, set)
					}
				}
			}
		})
	}
}
