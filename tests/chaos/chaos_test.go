package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xii/deployments/system"
	"xii/libs/launch"
)

// bin holds the service binaries under test.
var bin string

func TestMain(m *testing.M) {
	if os.Getenv(etcdDirEnv) != "" {
		if err := runEtcd(); err != nil {
			fmt.Fprintln(os.Stderr, "etcd:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		code = 1
	}
	os.Exit(code)
}

// setup builds the services, unless XII_CHAOS_BIN names a directory that
// holds them already (to run the same test against other builds).
func setup(m *testing.M) (int, error) {
	if bin = os.Getenv("XII_CHAOS_BIN"); bin != "" {
		return m.Run(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := launch.Root(ctx)
	if err != nil {
		return 1, err
	}
	if bin, err = os.MkdirTemp("", "xii-chaos-"); err != nil {
		return 1, err
	}
	defer os.RemoveAll(bin)
	if _, err := system.BuildServices(ctx, root, bin); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

// envDuration reads a duration from the environment.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// TestChaos runs writers and readers against the whole system while
// faults are injected one at a time, then checks the history. Knobs:
//
//	XII_CHAOS_DURATION    how long faults are injected, round after round
//	                      (default 0: every fault once, about a minute)
//	XII_CHAOS_FAULTS      only the faults whose kind contains one of
//	                      these comma-separated words
//	XII_CHAOS_SEED        the fault order and read mix (default: the time)
//	XII_CHAOS_PG_RESTART  a shell command that restarts PostgreSQL; when
//	                      set, that is one of the faults (make chaos sets
//	                      it; it disturbs anything else using the server)
//	XII_CHAOS_BIN         a directory with prebuilt service binaries
//
// It fails on any stale, lost, duplicated or unexpected response and on
// any answer later than its deadline plus 100ms; it prints, per fault
// kind, the reads, the share answered incomplete and the latencies.
func TestChaos(t *testing.T) {
	duration := envDuration(t, "XII_CHAOS_DURATION", 0)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("XII_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("XII_CHAOS_SEED: %v", err)
		}
	}
	if duration == 0 {
		t.Logf("seed %d, every fault once", seed)
	} else {
		t.Logf("seed %d, %v of faults", seed, duration)
	}
	logs := newProcessLog(t)
	c := startCluster(t, clusterConfig{bin: bin, providers: 3, log: logs})

	h := &history{}
	ctx, stopClients := context.WithCancel(context.Background())
	var clients sync.WaitGroup
	for name, base := range c.writeURL {
		for range 2 {
			clients.Go(func() { writer(ctx, h, name, base, 60*time.Millisecond) })
		}
	}
	for i := range 4 {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		clients.Go(func() { reader(ctx, h, c.dashURL, rng) })
	}

	faults := selectFaults(t, c.faults(h, os.Getenv("XII_CHAOS_PG_RESTART")), os.Getenv("XII_CHAOS_FAULTS"))
	nem := &nemesis{faults: faults, recovery: time.Second, rng: rand.New(rand.NewPCG(seed, 99))}
	if duration == 0 {
		nem.once()
	} else {
		stop := make(chan struct{})
		nemDone := make(chan struct{})
		go func() { defer close(nemDone); nem.run(stop) }()
		wait(duration, nil)
		close(stop)
		<-nemDone
	}
	stopClients()
	clients.Wait()

	final := finalReads(t, c, h)
	rep := check(h, nem.events)
	h.mu.Lock()
	checkFinal(rep, h.writes, final)
	h.mu.Unlock()

	var kinds []string
	for _, e := range nem.events {
		kinds = append(kinds, e.String())
	}
	t.Logf("%d faults:\n%s", len(nem.events), strings.Join(kinds, "\n"))
	t.Logf("\n%s", rep)
	if out := os.Getenv("XII_CHAOS_REPORT"); out != "" {
		body := fmt.Sprintf("seed %d, %v\n%d faults:\n%s\n\n%s", seed, duration, len(nem.events), strings.Join(kinds, "\n"), rep)
		if err := os.WriteFile(out, []byte(body), 0o644); err != nil {
			t.Error(err)
		}
	}
	for _, e := range nem.events {
		if e.injectErr != nil || e.err != nil {
			t.Errorf("fault %s", e)
		}
	}
	if n := rep.failures(); n > 0 {
		t.Errorf("%d violations of the guarantee (see the report above)", n)
	}
	if rep.writes[acked] == 0 || rep.reads == 0 {
		t.Errorf("nothing checked: %d acknowledged writes, %d reads", rep.writes[acked], rep.reads)
	}
}

// selectFaults keeps the faults whose kind contains one of the
// comma-separated words of filter; all of them when it is empty.
func selectFaults(t *testing.T, fs []fault, filter string) []fault {
	t.Helper()
	if filter == "" {
		return fs
	}
	var kept []fault
	for _, f := range fs {
		for w := range strings.SplitSeq(filter, ",") {
			if w = strings.TrimSpace(w); w != "" && strings.Contains(f.kind, w) {
				kept = append(kept, f)
				break
			}
		}
	}
	if len(kept) == 0 {
		t.Fatalf("XII_CHAOS_FAULTS=%q selects no fault", filter)
	}
	return kept
}

// finalReads waits until the system answers completely again, then reads
// every bucket.
func finalReads(t *testing.T, c *cluster, h *history) map[string]read {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	final := map[string]read{}
	for b := int64(0); b <= h.currentBucket(); b++ {
		bucket := fmt.Sprintf("b%05d", b)
		for {
			r := get(context.Background(), c.dashURL, bucket, 1000, 5*time.Second)
			if r.err == nil && r.status == 200 && r.complete {
				final[bucket] = r
				break
			}
			if time.Now().After(deadline) {
				final[bucket] = r
				t.Errorf("final read of %s: status %d, err %v, complete %v", bucket, r.status, r.err, r.complete)
				break
			}
			wait(100*time.Millisecond, nil) // the system is still recovering
		}
	}
	return final
}

// processLog keeps the processes' output in a file, named when the test
// fails.
type processLog struct {
	mu sync.Mutex
	f  *os.File
}

func newProcessLog(t *testing.T) *processLog {
	f, err := os.Create(filepath.Join(t.TempDir(), "processes.log"))
	if err != nil {
		t.Fatal(err)
	}
	l := &processLog{f: f}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if out, err := os.ReadFile(f.Name()); err == nil {
				lines := strings.Split(string(out), "\n")
				t.Logf("last process output:\n%s", strings.Join(lines[max(0, len(lines)-200):], "\n"))
			}
		}
		f.Close()
	})
	return l
}

func (l *processLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}
