package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/testkit/wait"
)

// fakeAlchemerSurvey answers Alchemer's v5 GET LIST for survey 123456 with
// three responses (one of them test data), in one page, to the credential
// token:secret only.
func fakeAlchemerSurvey(token, secret string, requests *atomic.Int64) http.Handler {
	const layout = "2006-01-02 15:04:05 MST"
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	at := time.Now().Add(-time.Hour).In(loc)
	item := func(id int, status string, test bool, answer string) map[string]any {
		return map[string]any{
			"id": fmt.Sprint(id), "status": status, "is_test_data": test,
			"date_submitted": at.Format(layout), "date_updated": at.Add(time.Duration(id) * time.Second).Format(layout),
			"country": "Canada", "city": "Toronto", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
			"survey_data": map[string]any{"7": map[string]any{"id": 7, "type": "ESSAY", "question": "Why?", "answer": answer, "shown": true}},
		}
	}
	data := []any{item(1, "Complete", false, "alchemer one"), item(2, "Partial", false, "alchemer two"), item(3, "Complete", true, "test data")}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v5/survey/123456/surveyresponse" || q.Get("api_token") != token || q.Get("api_token_secret") != secret {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"result_ok": false, "message": "Authentication failed"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"result_ok": true, "total_count": len(data), "page": 1, "total_pages": 1, "results_per_page": 500, "data": data})
	})
}

// TestAlchemerProvider: a fake Alchemer survey registered in etcd next to
// blue and red, its credential in the aggregator's configuration, is
// answered through the dashboard: complete, with its visibility delay.
func TestAlchemerProvider(t *testing.T) {
	const token, secret = "e2e-alchemer-token", "e2e-alchemer-secret"
	var requests atomic.Int64
	fake := httptest.NewServer(fakeAlchemerSurvey(token, secret, &requests))
	defer fake.Close()
	surveyURL := fake.URL + "/v5/survey/123456"

	cfg := config(t, false)
	cfg.Env["aggregator"] = append(cfg.Env["aggregator"], "XII_PROVIDER_TOKENS=alch="+surveyURL+"@"+token+":"+secret)
	s := startConfigured(t, cfg)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdEndpoint()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(context.Background(), "/xii/providers/alch", fmt.Sprintf(`{"url":%q,"dialect":"alchemer"}`, surveyURL)); err != nil {
		t.Fatal(err)
	}
	var got envelope
	wait.For(t, "a complete answer with the alchemer survey", func() bool {
		got, _, err = responses(s.URL("dashboard"), "survey=123456&timeout=5s")
		return err == nil && got.Sync.Complete && got.Sync.Providers["alch"].Status == "ok"
	}, wait.Within(waitLimit))
	texts := map[string]string{}
	for _, r := range got.Data {
		if r.Provider != "alch" || r.Device != "iOS" || r.Location != "Canada" {
			t.Errorf("record %+v", r)
		}
		texts[r.ProviderID] = r.Text
	}
	if len(got.Data) != 2 || texts["1"] != "alchemer one" || texts["2"] != "alchemer two" {
		t.Errorf("answer %+v, want responses 1 and 2 (3 is test data)", got.Data)
	}
	for _, p := range []string{"blue", "red"} {
		if got.Sync.Providers[p].Status != "ok" {
			t.Errorf("%s: %+v", p, got.Sync.Providers[p])
		}
	}
	// The sync report says how fresh an alchemer survey can be.
	_, _, b, err := call("GET", s.URL("dashboard")+"/api/v1/responses?survey=123456&timeout=5s", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Sync struct {
			Providers map[string]struct {
				VisibleAfterMS *int64 `json:"visible_after_ms"`
			} `json:"providers"`
		} `json:"sync"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if v := raw.Sync.Providers["alch"].VisibleAfterMS; v == nil || *v != 360000 {
		t.Errorf("alch visible_after_ms = %v, want 360000: %s", v, b)
	}
	if v := raw.Sync.Providers["blue"].VisibleAfterMS; v == nil || *v != 0 {
		t.Errorf("blue visible_after_ms = %v, want 0", v)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), token) {
		t.Errorf("the answer shows the credential: %s", b)
	}
	t.Logf("the fake alchemer answered %d requests", requests.Load())
}
