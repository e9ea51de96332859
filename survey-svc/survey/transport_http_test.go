package survey

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func newTestServer(t *testing.T, opts HTTPOptions) (*httptest.Server, *memRepo) {
	t.Helper()
	repo := newMemRepo()
	srv := httptest.NewServer(NewHTTPHandler(MakeEndpoints(NewService(repo)), opts))
	t.Cleanup(srv.Close)
	return srv, repo
}

func do(t *testing.T, method, url, contentType, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestSubmitRoutes(t *testing.T) {
	srv, repo := newTestServer(t, HTTPOptions{MaxBodyBytes: 1024})
	const ok = `{"text":"request: 01 to blue survey","device":"x","location":"y"}`
	tests := []struct {
		name, path, contentType, body string
		wantStatus                    int
		wantInBody                    string
	}{
		{"seed alias", "/api/v1/reporter", "application/json", ok, 201, `"text":"request: 01 to blue survey"`},
		{"responses", "/api/v1/responses", "application/json; charset=utf-8", ok, 201, `"survey":"default"`},
		{"no content type", "/api/v1/responses", "", ok, 415, `"code":"unsupported_media_type"`},
		{"duplicate key", "/api/v1/responses", "application/json", `{"text":"a","text":"b","device":"d","location":"l"}`, 400, `key \"text\" given twice`},
		{"duplicate answer key", "/api/v1/responses", "application/json", `{"text":"a","device":"d","location":"l","answers":{"q":1,"q":2}}`, 400, `key \"q\" given twice`},
		{"key in other case", "/api/v1/responses", "application/json", `{"TEXT":"a","device":"d","location":"l"}`, 400, `names are case-sensitive`},
		{"with answers", "/api/v1/responses", "application/json", `{"text":"t","device":"d","location":"l","survey":"nps","answers":{"score":9}}`, 201, `"answers":{"score":9}`},
		{"form content type", "/api/v1/responses", "application/x-www-form-urlencoded", ok, 415, `"code":"unsupported_media_type"`},
		{"missing field", "/api/v1/responses", "application/json", `{"text":"t","device":"d"}`, 400, `location: required`},
		{"unknown field", "/api/v1/responses", "application/json", `{"text":"t","device":"d","location":"l","admin":true}`, 400, `unknown field \"admin\"`},
		{"trailing data", "/api/v1/responses", "application/json", ok + `{}`, 400, `unexpected data after`},
		{"invalid utf8", "/api/v1/responses", "application/json", `{"text":"a` + "\xff" + `","device":"d","location":"l"}`, 400, `not valid UTF-8`},
		{"malformed", "/api/v1/responses", "application/json", `{"text":`, 400, `truncated JSON`},
		{"empty", "/api/v1/responses", "application/json", ``, 400, `empty`},
		{"wrong type", "/api/v1/responses", "application/json", `{"text":1,"device":"d","location":"l"}`, 400, `text: must be a string`},
		{"array body", "/api/v1/responses", "application/json", `[]`, 400, `expected a JSON object`},
		{"too large", "/api/v1/responses", "application/json", `{"text":"` + strings.Repeat("a", 2000) + `","device":"d","location":"l"}`, 413, `limit is 1024 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(repo.rows)
			resp, body := do(t, "POST", srv.URL+tt.path, tt.contentType, tt.body, nil)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantInBody) {
				t.Fatalf("status %d body %s; want %d containing %s", resp.StatusCode, body, tt.wantStatus, tt.wantInBody)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			stored := len(repo.rows) - before
			if want := map[bool]int{true: 1, false: 0}[resp.StatusCode == 201]; stored != want {
				t.Errorf("%d rows stored, want %d", stored, want)
			}
			if resp.StatusCode == 201 {
				var r Response
				if err := json.Unmarshal(body, &r); err != nil || r.ID == 0 || r.CreatedAt.IsZero() {
					t.Errorf("stored record %s lacks id or created_at (%v)", body, err)
				}
			}
		})
	}
}

func TestExportRoute(t *testing.T) {
	srv, _ := newTestServer(t, HTTPOptions{})
	for i := range 5 {
		device := []string{"iOS", "Android"}[i%2]
		body := `{"text":"t` + strconv.Itoa(i) + `","device":"` + device + `","location":"DE"}`
		if resp, b := do(t, "POST", srv.URL+"/api/v1/responses", "application/json", body, nil); resp.StatusCode != 201 {
			t.Fatalf("seed: %d %s", resp.StatusCode, b)
		}
	}

	// Paging with limit 2 visits each iOS row once.
	var seen []string
	after := ""
	for range 10 {
		resp, b := do(t, "GET", srv.URL+"/api/v1/responses?device=iOS&limit=2&after="+after, "", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("export: %d %s", resp.StatusCode, b)
		}
		var page ExportPage
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Data {
			seen = append(seen, r.Text)
		}
		after = page.NextCursor
		if !page.HasMore {
			break
		}
	}
	if got := strings.Join(seen, ","); got != "t0,t2,t4" {
		t.Fatalf("paged iOS rows %s, want t0,t2,t4", got)
	}

	for name, tt := range map[string]struct {
		query  string
		status int
		inBody string
	}{
		"empty page is an array": {"?device=none", 200, `"data":[]`},
		"unknown parameter":      {"?colour=red", 400, "colour: unknown parameter"},
		"repeated parameter":     {"?limit=1&limit=2", 400, "limit: given more than once"},
		"limit zero":             {"?limit=0", 400, "limit: must be an integer"},
		"limit too big":          {"?limit=1001", 400, "limit: must be an integer"},
		"limit not a number":     {"?limit=ten", 400, "limit: must be an integer"},
		"bad cursor":             {"?after=xyz", 400, "cursor: malformed"},
		"bad escape":             {"?device=%zz", 400, "query: malformed"},
		"bad rescan":             {"?rescan=maybe", 400, "rescan: must be true or false"},
		"rescan":                 {"?rescan=true&limit=1", 200, `"has_more":true`},
		"long filter":            {"?device=" + strings.Repeat("d", 65), 400, "device: longer"},
		"oversized query":        {"?device=" + strings.Repeat("d", 3000), 400, "query: longer"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, b := do(t, "GET", srv.URL+"/api/v1/responses"+tt.query, "", "", nil)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.inBody) {
				t.Fatalf("status %d body %s; want %d containing %q", resp.StatusCode, b, tt.status, tt.inBody)
			}
		})
	}
}

func TestExportToken(t *testing.T) {
	srv, _ := newTestServer(t, HTTPOptions{ExportToken: "s3cret"})
	for _, tt := range []struct {
		name   string
		auth   string
		status int
	}{
		{"none", "", 401},
		{"wrong", "Bearer nope", 401},
		{"not bearer", "Basic s3cret", 401},
		{"right", "Bearer s3cret", 200},
		{"scheme in any case, as every API", "bearer s3cret", 200},
		{"another scheme", "Basic s3cret", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			resp, b := do(t, "GET", srv.URL+"/api/v1/responses", "", "", h)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d body %s, want %d", resp.StatusCode, b, tt.status)
			}
			if strings.Contains(string(b), "s3cret") {
				t.Fatalf("answer leaks the token: %s", b)
			}
		})
	}
	// Submitting needs no token: the seed's commands send none.
	if resp, b := do(t, "POST", srv.URL+"/api/v1/reporter", "application/json", `{"text":"t","device":"d","location":"l"}`, nil); resp.StatusCode != 201 {
		t.Fatalf("submit with export token configured: %d %s", resp.StatusCode, b)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	srv, _ := newTestServer(t, HTTPOptions{})
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/nope", 404, ""},
		{"DELETE", "/api/v1/responses", 405, "GET, POST"},
		{"GET", "/api/v1/reporter", 405, "POST"},
		{"PUT", "/api/v1/reporter", 405, "POST"},
	} {
		resp, b := do(t, tt.method, srv.URL+tt.path, "", "", nil)
		if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow || !strings.Contains(string(b), `"code"`) {
			t.Errorf("%s %s: %d Allow=%q %s; want %d Allow=%q and a JSON error", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"), b, tt.status, tt.allow)
		}
	}
}
