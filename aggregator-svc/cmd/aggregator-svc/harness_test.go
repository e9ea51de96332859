package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"xii/libs/launch"
	"xii/testkit/etcdtest"
	"xii/testkit/pgtest"
	"xii/testkit/wait"
)

// The package's system tests run the aggregator in process (run) against
// real survey-svc processes, one embedded etcd and the real PostgreSQL.
var (
	etcd       *etcdtest.Server
	surveyPath string // the survey-svc binary
)

// waitLimit bounds every wait on a condition, wait.For's included.
const waitLimit = wait.Limit

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	os.Setenv("OTEL_TRACES_EXPORTER", "none")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := launch.Root(ctx)
	if err != nil {
		return 1, err
	}
	bin, err := os.MkdirTemp("", "xii-bin-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(bin)
	if surveyPath, err = launch.Build(ctx, root, bin, "xii/survey-svc/cmd/survey-svc"); err != nil {
		return 1, err
	}
	if etcd, err = etcdtest.New(); err != nil {
		return 1, err
	}
	defer etcd.Close()
	return m.Run(), nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testLog collects a test's process output, shown only when it fails.
type testLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func newTestLog(t *testing.T) *testLog {
	l := &testLog{}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			t.Logf("process output:\n%s", l.buf.String())
			l.mu.Unlock()
		}
	})
	return l
}

// uniqueName returns a provider name no other test uses; providers live in
// the shared etcd.
func uniqueName(prefix string) string { return pgtest.RandomName(prefix) }

// startSurvey runs a survey-svc process registered in etcd as name and
// returns its base URL.
func startSurvey(t *testing.T, name string, log io.Writer) string {
	t.Helper()
	s := survey{name: name, addr: freeAddr(t), db: pgtest.NewDatabase(t)}
	s.start(t, log)
	return s.url()
}

// survey is a survey-svc instance that can be killed and started again
// with the same address and database.
type survey struct {
	name, addr, db string
	env            []string // added to, or overriding, the harness's
	proc           *launch.Process
}

func (s *survey) url() string { return "http://" + s.addr }

// start runs the instance and waits until it is ready; it is stopped when
// t ends.
func (s *survey) start(t *testing.T, log io.Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	p, err := launch.Start(ctx, launch.Spec{
		Name: s.name,
		Path: surveyPath,
		Env: append([]string{
			"XII_NAME=" + s.name,
			"XII_LISTEN_ADDR=" + s.addr,
			"XII_POSTGRES_URL=" + s.db,
			"XII_ETCD_ENDPOINTS=" + strings.Join(etcd.Endpoints(), ","),
			"XII_REGISTER_TTL=2s",
			"OTEL_TRACES_EXPORTER=none",
		}, s.env...),
		ReadyURL: s.url() + "/readyz",
		Log:      log,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.proc = p
	t.Cleanup(func() {
		if err := p.Stop(20 * time.Second); err != nil && !s.killed(p) {
			t.Errorf("stop %s: %v", s.name, err)
		}
	})
}

// kill sends SIGKILL and waits for the process to exit.
func (s *survey) kill(t *testing.T) {
	t.Helper()
	if err := s.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.proc.Done()
}

// killed reports whether p was ended by kill.
func (s *survey) killed(p *launch.Process) bool {
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// aggregator is an in-process aggregator-svc.
type aggregator struct {
	url  string
	db   string // its aggregate database
	stop context.CancelFunc
	done chan error
}

// startAggregator runs the aggregator with a fresh database, the shared
// etcd and args, and waits until it is ready.
func startAggregator(t *testing.T, log io.Writer, args ...string) *aggregator {
	t.Helper()
	a := launchAggregator(t, log, nil, args...)
	wait.For(t, "aggregator readiness", func() bool { return a.status("/readyz") == 200 })
	return a
}

// launchAggregator runs the aggregator with a fresh database and the
// shared etcd, unless env says otherwise, and returns once it serves
// (alive, not necessarily ready). It is stopped when t ends.
func launchAggregator(t *testing.T, log io.Writer, env map[string]string, args ...string) *aggregator {
	t.Helper()
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	vars := map[string]string{
		"XII_LISTEN_ADDR":    addr,
		"XII_ETCD_ENDPOINTS": strings.Join(etcd.Endpoints(), ","),
		"XII_ID":             uniqueName("agg-"),
		"XII_LOG_LEVEL":      "warn",
	}
	maps.Copy(vars, env)
	if vars["XII_POSTGRES_URL"] == "" {
		vars["XII_POSTGRES_URL"] = pgtest.NewDatabase(t)
	}
	a := &aggregator{url: "http://" + addr, db: vars["XII_POSTGRES_URL"], stop: stop, done: make(chan error, 1)}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	go func() { a.done <- run(ctx, args, lookup, log, log) }()
	var once sync.Once
	a.stop = func() {
		once.Do(func() {
			stop()
			select {
			case err := <-a.done:
				if err != nil {
					t.Errorf("aggregator run() = %v", err)
				}
			case <-time.After(waitLimit):
				t.Error("aggregator did not stop")
			}
		})
	}
	t.Cleanup(a.stop)
	wait.For(t, "aggregator to serve", func() bool { return a.status("/healthz") == 200 })
	return a
}

// status returns the status of GET path, 0 if there was no answer.
func (a *aggregator) status(path string) int {
	resp, err := http.Get(a.url + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// response mirrors the wire form of an aggregated response.
type response struct {
	Provider   string    `json:"provider"`
	ProviderID string    `json:"provider_id"`
	Device     string    `json:"device"`
	Survey     string    `json:"survey"`
	CreatedAt  time.Time `json:"created_at"`
}

type providerSync struct {
	Status      string `json:"status"`
	Rows        int    `json:"rows"`
	Quarantined int    `json:"quarantined"`
	Pages       int    `json:"pages"`
	Error       string `json:"error"`
}

type syncReport struct {
	Complete  bool                    `json:"complete"`
	Providers map[string]providerSync `json:"providers"`
}

type responsesBody struct {
	Data       []response `json:"data"`
	NextCursor string     `json:"next_cursor"`
	Sync       syncReport `json:"sync"`
}

// get asks the aggregator for responses; params are name/value pairs.
func (a *aggregator) get(params ...string) (responsesBody, time.Duration, error) {
	v := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] != "" { // the API refuses an empty parameter; leave it out
			v.Set(params[i], params[i+1])
		}
	}
	start := time.Now()
	resp, err := http.Get(a.url + "/api/v1/responses?" + v.Encode())
	if err != nil {
		return responsesBody{}, 0, fmt.Errorf("query: %w", err)
	}
	defer resp.Body.Close()
	var body responsesBody
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return body, 0, fmt.Errorf("query %s: %d %s", v.Encode(), resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return body, 0, fmt.Errorf("query: %w: %s", err, b)
	}
	if got := resp.Header.Get("X-Sync-Complete"); got != strconv.FormatBool(body.Sync.Complete) {
		return body, 0, fmt.Errorf("X-Sync-Complete %q but body says %v", got, body.Sync.Complete)
	}
	return body, time.Since(start), nil
}

// query is get for the test's own goroutine.
func (a *aggregator) query(t *testing.T, params ...string) (responsesBody, time.Duration) {
	t.Helper()
	body, took, err := a.get(params...)
	if err != nil {
		t.Fatal(err)
	}
	return body, took
}

// submit posts one response to a survey-svc and returns its id.
func submit(base, survey, device string) (string, error) {
	body := fmt.Sprintf(`{"survey":%q,"text":"t","device":%q,"location":"Germany"}`, survey, device)
	resp, err := http.Post(base+"/api/v1/responses", "application/json", strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	var r struct {
		ID int64 `json:"id"`
	}
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&r) != nil {
		return "", fmt.Errorf("post to %s: status %d", base, resp.StatusCode)
	}
	return strconv.FormatInt(r.ID, 10), nil
}

// post is submit for the test's own goroutine.
func post(t *testing.T, base, survey, device string) string {
	t.Helper()
	id, err := submit(base, survey, device)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// exportRequests reads how many export pages a survey-svc has served from
// its own /metrics.
func exportRequests(t *testing.T, base string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(scrape(t, base), "\n") {
		if strings.HasPrefix(line, "http_server_request_duration_seconds_count{") &&
			strings.Contains(line, `http_request_method="GET"`) && strings.Contains(line, `http_route="/api/v1/responses"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(v)
		}
	}
	return n
}
