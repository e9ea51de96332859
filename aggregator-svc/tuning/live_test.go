package tuning

import (
	"context"
	"fmt"
	"testing"
	"time"

	"xii/libs/discovery"

	clientv3 "go.etcd.io/etcd/client/v3"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"xii/testkit/etcdtest"
	"xii/testkit/wait"
	"xii/testkit/watchtest"
)

// shared is one etcd for the tests that do not stop it; each test works in
// a namespace of its own.
var shared *etcdtest.Server

const (
	waitLimit = 20 * time.Second // bounds waits the spec sets no limit for
	visible   = time.Second      // how soon a write must take effect
)

func TestMain(m *testing.M) { etcdtest.Main(m, &shared) }

// live is a running Live, its client and what it logged and counted.
type live struct {
	*Live
	cli    *clientv3.Client
	reader *sdkmetric.ManualReader
	logs   *watchtest.Logs
}

// startLive runs a Live with the defaults on cli until t ends.
func startLive(t *testing.T, cli *clientv3.Client) *live {
	t.Helper()
	lv := &live{cli: cli, reader: sdkmetric.NewManualReader(), logs: &watchtest.Logs{}}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(lv.reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	var err error
	if lv.Live, err = NewLive(Defaults(), lv.logs.Logger(), mp); err != nil {
		t.Fatal(err)
	}
	lv.follow = discovery.FollowOptions{Logger: lv.logs.Logger(), RequestTimeout: 500 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, ProgressInterval: 200 * time.Millisecond}
	watchtest.Go(t, func(ctx context.Context) error { return lv.Run(ctx, cli) })
	return lv
}

// put writes value to the setting key, or deletes it when value is empty.
func (lv *live) put(t *testing.T, key, value string) {
	t.Helper()
	var err error
	if value == "" {
		_, err = lv.cli.Delete(t.Context(), Prefix+key)
	} else {
		_, err = lv.cli.Put(t.Context(), Prefix+key, value)
	}
	if err != nil {
		t.Fatalf("put %s=%q: %v", key, value, err)
	}
}

// waitFor waits up to within for the settings to be want.
func (lv *live) waitFor(t *testing.T, within time.Duration, want Tuning) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		changed := lv.Changed()
		got := lv.Current()
		if got == want {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("settings %+v, want %+v within %s", got, want, within)
		}
	}
}

// waitRejected waits up to within for xii.config.rejected{key} to be n.
func (lv *live) waitRejected(t *testing.T, within time.Duration, key string, n int64) {
	t.Helper()
	wait.ForNil(t, "rejection counted", func() error {
		if got := lv.rejected(t, key); got != n {
			return fmt.Errorf("xii.config.rejected{key=%s} = %d, want %d", key, got, n)
		}
		return nil
	}, wait.Within(within))
}

func (lv *live) rejected(t *testing.T, key string) int64 {
	t.Helper()
	return watchtest.Counter(t, lv.reader, "xii.config.rejected", "key", key)
}

// with returns Defaults with the settings kv applied, or fails t.
func with(t *testing.T, kv ...string) Tuning {
	t.Helper()
	d := Defaults()
	for i := 0; i < len(kv); i += 2 {
		var err error
		if d, err = d.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestLiveInitialContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		put      []string // key, value, ...
		want     []string // key, value, ... applied to Defaults
		rejected string   // the key counted as rejected, if any
	}{
		{"one set, the others default", []string{"page_size", "100"}, []string{"page_size", "100"}, ""},
		{"all four", []string{"fetch_timeout", "1s", "poll_interval", "2s", "page_size", "50", "max_concurrency", "4"},
			[]string{"fetch_timeout", "1s", "poll_interval", "2s", "page_size", "50", "max_concurrency", "4"}, ""},
		{"invalid one defaults", []string{"page_size", "0", "fetch_timeout", "750ms"}, []string{"fetch_timeout", "750ms"}, "page_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lv := startLive(t, watchtest.NamespacedClient(t, shared.Endpoints()))
			if got := lv.Current(); got != Defaults() {
				t.Fatalf("before etcd is read: %+v, want the defaults", got)
			}
			for i := 0; i < len(tt.put); i += 2 {
				lv.put(t, tt.put[i], tt.put[i+1])
			}
			lv.waitFor(t, waitLimit, with(t, tt.want...))
			if tt.rejected != "" {
				lv.waitRejected(t, waitLimit, tt.rejected, 1)
			}
		})
	}
}

func TestLiveFollowsWrites(t *testing.T) {
	t.Parallel()
	lv := startLive(t, watchtest.NamespacedClient(t, shared.Endpoints()))
	rejected := map[string]int64{} // by metric attribute
	logged := map[string]int{}     // by etcd key
	steps := []struct {
		name, key, value string // an empty value deletes the key
		want             []string
		rejected         string // the key counted as rejected, if any
	}{
		{"put applies", "fetch_timeout", "500ms", []string{"fetch_timeout", "500ms"}, ""},
		{"invalid keeps the last good", "fetch_timeout", "soon", []string{"fetch_timeout", "500ms"}, "fetch_timeout"},
		{"out of bounds keeps the default", "page_size", "0", []string{"fetch_timeout", "500ms"}, "page_size"},
		{"unknown key", "colour", "red", []string{"fetch_timeout", "500ms"}, "unknown"},
		{"valid after invalid", "fetch_timeout", "750ms", []string{"fetch_timeout", "750ms"}, ""},
		{"second key", "max_concurrency", "3", []string{"fetch_timeout", "750ms", "max_concurrency", "3"}, ""},
		{"delete goes back to the default", "fetch_timeout", "", []string{"max_concurrency", "3"}, ""},
		{"invalid after delete keeps the default", "fetch_timeout", "1h", []string{"max_concurrency", "3"}, "fetch_timeout"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			lv.put(t, st.key, st.value)
			if st.rejected != "" {
				rejected[st.rejected]++
				logged[st.key]++
				lv.waitRejected(t, visible, st.rejected, rejected[st.rejected])
				if n := len(lv.logs.Lines(`"etcd_key":"` + Prefix + st.key + `"`)); n != logged[st.key] {
					t.Errorf("%d log lines name %s, want %d; log:\n%s", n, st.key, logged[st.key], lv.logs)
				}
			}
			lv.waitFor(t, visible, with(t, st.want...))
		})
	}
	for key, n := range rejected {
		if got := lv.rejected(t, key); got != n {
			t.Errorf("xii.config.rejected{key=%s} = %d at the end, want %d", key, got, n)
		}
	}
}

func TestLiveSurvivesEtcdRestart(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	lv := startLive(t, watchtest.Client(t, srv.Endpoints()))
	lv.put(t, "page_size", "100")
	lv.put(t, "poll_interval", "nope")
	want := with(t, "page_size", "100")
	lv.waitFor(t, waitLimit, want)
	lv.waitRejected(t, waitLimit, "poll_interval", 1)
	changed := lv.Changed()

	srv.Stop()
	deadline := time.Now().Add(waitLimit)
	for len(lv.logs.Lines("etcd prefix not followed")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("etcd outage not noticed within %s; log:\n%s", waitLimit, lv.logs)
		}
		select {
		case <-changed:
			t.Fatalf("settings changed while etcd is down: %+v", lv.Current())
		case <-time.After(10 * time.Millisecond):
		}
	}
	srv.Restart(t)

	lv.put(t, "page_size", "200")
	lv.waitFor(t, waitLimit, with(t, "page_size", "200"))
	if n := lv.rejected(t, "poll_interval"); n != 1 {
		t.Errorf("the invalid poll_interval was counted %d times over the restart, want once", n)
	}
	lv.put(t, "page_size", "")
	lv.waitFor(t, visible, Defaults())
}

func BenchmarkLiveCurrent(b *testing.B) {
	l, err := NewLive(Defaults(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = l.Current()
		}
	})
}
