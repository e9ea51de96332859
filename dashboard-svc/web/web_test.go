package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newMux(t *testing.T, opts Options) *http.ServeMux {
	t.Helper()
	mux := http.NewServeMux()
	if err := Register(mux, opts); err != nil {
		t.Fatal(err)
	}
	return mux
}

func get(t *testing.T, h http.Handler, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// TestPage: the page and its assets are served with their types, the
// security headers and a validator; anything else is not found.
func TestPage(t *testing.T) {
	mux := newMux(t, Options{JaegerURL: "https://jaeger.example.com/ui"})
	for target, ctype := range map[string]string{
		"/":                 "text/html; charset=utf-8",
		"/assets/app.js":    "text/javascript; charset=utf-8",
		"/assets/style.css": "text/css; charset=utf-8",
	} {
		resp := get(t, mux, target, nil)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != ctype || h.Get("Content-Security-Policy") != ContentSecurityPolicy ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-cache" || h.Get("ETag") == "" {
			t.Errorf("GET %s: %d %v", target, resp.StatusCode, h)
			continue
		}
		if again := get(t, mux, target, http.Header{"If-None-Match": {h.Get("ETag")}}); again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", target, again.StatusCode)
		}
	}
	for _, target := range []string{"/assets/index.html", "/assets/nope.js", "/index.html", "/assets/"} {
		if resp := get(t, mux, target, nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", target, resp.StatusCode)
		}
	}
}

// TestPageHasNoInlineCode: the policy forbids inline script and style, so
// the page must not need them (a violation is a console error).
func TestPageHasNoInlineCode(t *testing.T) {
	resp := get(t, newMux(t, Options{}), "/", nil)
	var b strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	page := b.String()
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>`), // inline script
		regexp.MustCompile(`\son[a-z]+\s*=`),                     // event handler attributes
		regexp.MustCompile(`\sstyle\s*=`),
		regexp.MustCompile(`<style`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("page has inline code: %q", m)
		}
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="/assets/`) {
			t.Errorf("script %q is not the page's own file", tag)
		}
	}
	if !strings.Contains(page, `<meta name="xii-jaeger-url" content="http://localhost:16686">`) {
		t.Error("page lacks the default Jaeger URL")
	}
}

// TestJaegerURL: the base URL is checked, and escaped into the page.
func TestJaegerURL(t *testing.T) {
	for _, bad := range []string{"localhost:16686", "ftp://x", "http://", "http://u:p@x", "http://x/?q=1", "http://x/#f", "javascript:alert(1)"} {
		if err := Register(http.NewServeMux(), Options{JaegerURL: bad}); err == nil {
			t.Errorf("Jaeger URL %q accepted", bad)
		}
	}
	resp := get(t, newMux(t, Options{JaegerURL: `http://x/a"b<c>`}), "/", nil)
	buf := make([]byte, 1<<16)
	n, _ := resp.Body.Read(buf)
	if page := string(buf[:n]); strings.Contains(page, `a"b<c>`) {
		t.Error("the Jaeger URL reached the page unescaped")
	}
}
