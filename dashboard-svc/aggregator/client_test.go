package aggregator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"

	"xii/dashboard-svc/dashboard"
	"xii/testkit/wait"
)

func TestBalancesOverReplicas(t *testing.T) {
	c, register := newTestClient(t, Config{})
	a, b := newFake(t, "a"), newFake(t, "b")
	register("a", a.URL)
	register("b", b.URL)
	waitReplicas(t, c, 2)
	for range 10 {
		if _, err := c.Responses(t.Context(), dashboard.Query{Limit: 5}); err != nil {
			t.Fatal(err)
		}
	}
	if a.count() != 5 || b.count() != 5 {
		t.Fatalf("replicas served %d and %d of 10 calls, want 5 each", a.count(), b.count())
	}
}

func TestReplicaDownServedByTheOther(t *testing.T) {
	c, register := newTestClient(t, Config{})
	down, up := newFake(t, "down"), newFake(t, "up")
	register("down", down.URL)
	register("up", up.URL)
	waitReplicas(t, c, 2)
	down.Close() // still registered: its lease has not run out yet
	for range 6 {
		p, err := c.Responses(t.Context(), dashboard.Query{})
		if err != nil {
			t.Fatalf("with one replica down: %v", err)
		}
		if len(p.Responses) != 1 || p.Responses[0].Text != "from up" {
			t.Fatalf("answer %+v, want the live replica's", p)
		}
	}
	if up.count() != 6 {
		t.Fatalf("the live replica served %d of 6 calls", up.count())
	}
}

func TestServerErrorTriesAnotherReplica(t *testing.T) {
	c, register := newTestClient(t, Config{})
	failing, ok := newFake(t, "failing"), newFake(t, "ok")
	failing.set(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, "", map[string]string{"error": "draining", "code": "unavailable"})
	})
	register("failing", failing.URL)
	register("ok", ok.URL)
	waitReplicas(t, c, 2)
	for range 4 {
		if _, err := c.Stats(t.Context(), dashboard.StatsQuery{GroupBy: []string{"device"}}); err != nil {
			t.Fatalf("with one replica failing: %v", err)
		}
	}
	if ok.count() != 4 || failing.count() == 0 {
		t.Fatalf("ok replica served %d of 4 calls, failing one was asked %d times", ok.count(), failing.count())
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	c, register := newTestClient(t, Config{})
	a, b := newFake(t, "a"), newFake(t, "b")
	reject := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadRequest, "", map[string]string{"error": "invalid request: cursor: malformed", "code": "invalid_request"})
	}
	a.set(reject)
	b.set(reject)
	register("a", a.URL)
	register("b", b.URL)
	waitReplicas(t, c, 2)
	_, err := c.Responses(t.Context(), dashboard.Query{Cursor: "eyJ9"})
	if !errors.Is(err, dashboard.ErrInvalid) {
		t.Fatalf("error %v, want ErrInvalid", err)
	}
	if n := a.count() + b.count(); n != 1 {
		t.Fatalf("a rejected query was sent %d times, want once", n)
	}
}

// TestInternalErrorsAreNotRetried: a replica that fails on a request with
// a 500 fails the same way on the next replica (the same input, the same
// store), so the call is not repeated; the client's answer is a 502.
func TestInternalErrorsAreNotRetried(t *testing.T) {
	c, register := newTestClient(t, Config{})
	a, b := newFake(t, "a"), newFake(t, "b")
	fail := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusInternalServerError, "", map[string]string{"error": "Internal Server Error", "code": "internal"})
	}
	a.set(fail)
	b.set(fail)
	register("a", a.URL)
	register("b", b.URL)
	waitReplicas(t, c, 2)
	_, err := c.Responses(t.Context(), dashboard.Query{})
	if !errors.Is(err, dashboard.ErrBadGateway) {
		t.Fatalf("error %v, want ErrBadGateway", err)
	}
	if n := a.count() + b.count(); n != 1 {
		t.Fatalf("a request that failed with a 500 was sent %d times, want once", n)
	}
}

func TestAllReplicasDown(t *testing.T) {
	c, register := newTestClient(t, Config{Attempts: 3})
	a, b := newFake(t, "a"), newFake(t, "b")
	register("a", a.URL)
	register("b", b.URL)
	waitReplicas(t, c, 2)
	a.Close()
	b.Close()
	_, err := c.Responses(t.Context(), dashboard.Query{})
	if !errors.Is(err, dashboard.ErrUnavailable) {
		t.Fatalf("error %v, want ErrUnavailable", err)
	}
}

func TestNoReplicasThenOneRegistered(t *testing.T) {
	c, register := newTestClient(t, Config{})
	if _, err := c.Responses(t.Context(), dashboard.Query{}); !errors.Is(err, dashboard.ErrUnavailable) {
		t.Fatalf("with no replica: %v, want ErrUnavailable", err)
	}
	if err := c.Ready(t.Context()); err == nil {
		t.Fatal("ready with no replica")
	}

	late := newFake(t, "late")
	unregister := register("late", late.URL)
	waitReplicas(t, c, 1)
	if err := c.Ready(t.Context()); err != nil {
		t.Fatalf("not ready with a replica: %v", err)
	}
	if _, err := c.Responses(t.Context(), dashboard.Query{}); err != nil || late.count() != 1 {
		t.Fatalf("after registration: %v, replica asked %d times", err, late.count())
	}

	unregister()
	waitReplicas(t, c, 0)
	if _, err := c.Responses(t.Context(), dashboard.Query{}); !errors.Is(err, dashboard.ErrUnavailable) {
		t.Fatalf("after deregistration: %v, want ErrUnavailable", err)
	}
}

func TestBadRegistrationsIgnored(t *testing.T) {
	c, register := newTestClient(t, Config{})
	good := newFake(t, "good")
	register("bad-url", "ftp://127.0.0.1:1")
	register("not-a-url", "::::")
	register("nested/key", good.URL+"/nested")
	register("good", good.URL)
	register("empty", " ")
	wait.For(t, "the good replica known", func() bool {
		_, err := c.Responses(t.Context(), dashboard.Query{})
		return err == nil
	})
	if n := c.Replicas(); n != 1 {
		t.Fatalf("%d replicas known, want only the good one", n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no etcd":         {},
		"prefix no slash": {EtcdEndpoints: shared.Endpoints(), Prefix: "/xii/services/aggregator"},
		"relative prefix": {EtcdEndpoints: shared.Endpoints(), Prefix: "xii/"},
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := New(cfg); err == nil {
				c.Close()
				t.Fatal("New() accepted it")
			}
		})
	}
}

// TestUnreachableReplicaPassedOver: a replica that died with its lease
// still running (a listener that drops every connection) is tried once,
// then passed over by the next calls, which the live one serves.
func TestUnreachableReplicaPassedOver(t *testing.T) {
	c, register := newTestClient(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	up := newFake(t, "up")
	register("dead", "http://"+ln.Addr().String())
	register("up", up.URL)
	waitReplicas(t, c, 2)
	const calls = 20
	for range calls {
		if _, err := c.Responses(t.Context(), dashboard.Query{}); err != nil {
			t.Fatalf("with one replica unreachable: %v", err)
		}
	}
	// Round robin alone would try the dead replica on every other call;
	// the calls take far less than downFor.
	if n := accepted.Load(); n > 2 {
		t.Fatalf("the unreachable replica got %d connections in %d calls, want it passed over after the first", n, calls)
	}
	if up.count() != calls {
		t.Fatalf("the live replica served %d of %d calls", up.count(), calls)
	}
}

func TestReplicasPassOverOnlyWhileAnotherIsUp(t *testing.T) {
	now := time.Unix(0, 0)
	rs := newReplicas()
	rs.now = func() time.Time { return now }
	calls := map[string]int{}
	dial := func(name string, fail bool) endpoint.Endpoint {
		return func(context.Context, any) (any, error) {
			calls[name]++
			if fail {
				return nil, &url.Error{Op: "Get", URL: name, Err: errors.New("connection refused")}
			}
			return "ok", nil
		}
	}
	a, _ := rs.guard("a", dial("a", true))
	b, closeB := rs.guard("b", dial("b", true))
	ctx := context.Background()
	a(ctx, nil) // a fails: down
	if _, err := a(ctx, nil); !errors.Is(err, errPassedOver) {
		t.Fatalf("a down, b up: %v, want passed over", err)
	}
	b(ctx, nil) // b fails too: both down, both are tried
	a(ctx, nil)
	b(ctx, nil)
	if calls["a"] != 2 || calls["b"] != 2 {
		t.Fatalf("calls %v, want both tried while both are down", calls)
	}
	now = now.Add(downFor)
	closeB.Close()
	a(ctx, nil)
	if calls["a"] != 3 {
		t.Fatalf("after downFor a was not tried again: %v", calls)
	}
}
