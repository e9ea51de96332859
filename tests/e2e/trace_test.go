package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/testkit/wait"
)

// jaegerSpan is a span as Jaeger's query API returns it.
type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	ProcessID string `json:"processID"`
	service   string
}

func (s jaegerSpan) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// trace holds one trace's spans by id.
type trace map[string]jaegerSpan

func fetchTrace(jaegerURL, traceID string) (trace, error) {
	status, _, b, err := call("GET", jaegerURL+"/api/traces/"+traceID, "", "", nil)
	if err != nil || status != 200 {
		return nil, fmt.Errorf("jaeger: %d %v", status, err)
	}
	var body struct {
		Data []struct {
			Spans     []jaegerSpan `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &body); err != nil || len(body.Data) != 1 {
		return nil, fmt.Errorf("jaeger trace: %v", err)
	}
	tr := trace{}
	for _, s := range body.Data[0].Spans {
		s.service = body.Data[0].Processes[s.ProcessID].ServiceName
		tr[s.SpanID] = s
	}
	return tr, nil
}

// find returns the spans of service named op.
func (tr trace) find(service, op string) []jaegerSpan {
	var out []jaegerSpan
	for _, s := range tr {
		if s.service == service && s.OperationName == op {
			out = append(out, s)
		}
	}
	return out
}

// descends reports whether s has ancestor a.
func (tr trace) descends(s jaegerSpan, a string) bool {
	for p := s.parent(); p != ""; p = tr[p].parent() {
		if p == a {
			return true
		}
	}
	return false
}

func newTraceparent() (traceID, header string) {
	b := make([]byte, 24)
	rand.Read(b)
	traceID = hex.EncodeToString(b[:16])
	return traceID, "00-" + traceID + "-" + hex.EncodeToString(b[16:]) + "-01"
}

// TestOneRequestIsOneTrace sends one dashboard request and reads its trace
// back from Jaeger: dashboard → aggregator → a fetch per provider → the
// providers' export → their database, and the aggregate writes, all linked
// parent to child; a hung provider's fetch span says it timed out.
func TestOneRequestIsOneTrace(t *testing.T) {
	s := startSystem(t, true)
	for _, p := range []string{"blue", "red"} {
		if _, err := submit(s.URL(p), `{"text":"traced","device":"iOS","location":"Germany"}`); err != nil {
			t.Fatal(err)
		}
	}
	traceID, tp := newTraceparent()
	status, _, b, err := call("GET", s.URL("dashboard")+"/api/v1/responses?device=iOS&location=Germany&limit=50", "", "", http.Header{"Traceparent": {tp}})
	if err != nil || status != 200 {
		t.Fatalf("dashboard: %d %s %v", status, b, err)
	}

	var tr trace
	wait.For(t, "the whole trace in Jaeger", func() bool {
		tr, _ = fetchTrace(s.URL("jaeger"), traceID)
		return len(tr.find("survey-svc", "GET /api/v1/responses")) == 2 &&
			len(tr.find("aggregator-svc", "apply page")) == 2 && len(tr.find("dashboard-svc", "GET /api/v1/responses")) == 1
	}, wait.Within(waitLimit))

	root := tr.find("dashboard-svc", "GET /api/v1/responses")[0]
	orphans := 0
	for _, sp := range tr {
		if _, ok := tr[sp.parent()]; !ok {
			orphans++
		}
	}
	if orphans != 1 {
		t.Errorf("%d spans without a parent in the trace, want 1 (the dashboard's server span)", orphans)
	}
	aggServer := tr.find("aggregator-svc", "GET /api/v1/responses")
	if len(aggServer) != 1 || !tr.descends(aggServer[0], root.SpanID) {
		t.Fatalf("aggregator server span missing or not under the dashboard's: %+v", aggServer)
	}
	for _, p := range []string{"blue", "red"} {
		fetch := tr.find("aggregator-svc", "sync.provider "+p)
		if len(fetch) != 1 || !tr.descends(fetch[0], aggServer[0].SpanID) {
			t.Fatalf("fetch span for %s missing or misplaced", p)
		}
		f := fetch[0]
		for key, want := range map[string]string{"xii.provider": p, "xii.dialect": "xii-v1", "xii.sync.status": "ok", "xii.sync.rows": "1"} {
			if got := f.tag(key); got != want {
				t.Errorf("fetch span %s: %s = %q, want %q", p, key, got, want)
			}
		}
		if f.tag("xii.sync.pages") == "" || f.tag("xii.sync.deadline_left_ms") == "" {
			t.Errorf("fetch span %s lacks pages or deadline_left_ms", p)
		}
		var export, apply bool
		for _, sv := range tr.find("survey-svc", "GET /api/v1/responses") {
			export = export || tr.descends(sv, f.SpanID)
		}
		for _, a := range tr.find("aggregator-svc", "apply page") {
			apply = apply || tr.descends(a, f.SpanID)
		}
		if !export || !apply {
			t.Errorf("fetch span %s: export span below it %v, write span below it %v", p, export, apply)
		}
	}
	for _, sel := range tr.find("survey-svc", "SELECT") {
		if sel.tag("db.system.name") != "postgresql" || sel.tag("db.query.text") == "" {
			t.Errorf("survey-svc SELECT span lacks database attributes: %+v", sel.Tags)
		}
	}

	// A hung provider: its fetch span ends as a timeout.
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hung.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdEndpoint()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(context.Background(), "/xii/providers/hung", fmt.Sprintf(`{"url":%q,"dialect":"xii-v1"}`, hung.URL)); err != nil {
		t.Fatal(err)
	}
	defer cli.Delete(context.Background(), "/xii/providers/hung")
	wait.For(t, "the hung provider to be known", func() bool {
		got, _, err := responses(s.URL("dashboard"), "timeout=300ms")
		return err == nil && got.Sync.Providers["hung"].Status != ""
	}, wait.Within(waitLimit))
	traceID, tp = newTraceparent()
	call("GET", s.URL("dashboard")+"/api/v1/responses?timeout=500ms", "", "", http.Header{"Traceparent": {tp}})
	wait.For(t, "the hung fetch span", func() bool {
		tr, _ = fetchTrace(s.URL("jaeger"), traceID)
		return len(tr.find("aggregator-svc", "sync.provider hung")) == 1
	}, wait.Within(waitLimit))
	sp := tr.find("aggregator-svc", "sync.provider hung")[0]
	if sp.tag("xii.sync.status") != "timeout" || sp.tag("otel.status_code") != "ERROR" {
		t.Fatalf("hung fetch span: status %q, otel status %q; want timeout, ERROR", sp.tag("xii.sync.status"), sp.tag("otel.status_code"))
	}
}
