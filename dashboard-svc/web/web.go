// Package web is dashboard-svc's web page: one HTML page, its script and
// its styles, written by hand and embedded, so that no build step stands
// between the source and `go build`. The page holds no data; it reads the
// public API from the browser (see docs/openapi.yaml), so it is served
// without the API token, under a Content-Security-Policy that admits
// scripts, styles and requests from its own origin only.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"time"
)

//go:embed assets
var assets embed.FS

// DefaultJaegerURL is where the page links traces unless told otherwise.
const DefaultJaegerURL = "http://localhost:16686"

// ContentSecurityPolicy is the page's: nothing inline, nothing from
// another origin; links to the Jaeger UI are navigations, which it does
// not restrict.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Options configure the page.
type Options struct {
	// JaegerURL is the Jaeger UI's base URL; a trace is at
	// JaegerURL/trace/<id>.
	JaegerURL string
}

// ValidateJaegerURL checks that s is an absolute http(s) URL with no
// credentials, query or fragment.
func ValidateJaegerURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return errors.New("must be an absolute http or https URL")
	case u.User != nil, u.RawQuery != "", u.Fragment != "":
		return errors.New("must have no credentials, query or fragment")
	}
	return nil
}

// asset is one file as served: its bytes, type and validator.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

func newAsset(name string, body []byte) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, ctype: mime.TypeByExtension(path.Ext(name)), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Register adds the page's routes to mux: GET / (the page) and
// GET /assets/{name} (its script and styles).
func Register(mux *http.ServeMux, opts Options) error {
	if opts.JaegerURL == "" {
		opts.JaegerURL = DefaultJaegerURL
	}
	if err := ValidateJaegerURL(opts.JaegerURL); err != nil {
		return fmt.Errorf("jaeger ui url: %w", err)
	}
	tmpl, err := template.ParseFS(assets, "assets/index.html")
	if err != nil {
		return fmt.Errorf("page template: %w", err)
	}
	var page bytes.Buffer
	if err := tmpl.Execute(&page, opts); err != nil {
		return fmt.Errorf("page template: %w", err)
	}
	files := map[string]asset{}
	for _, name := range []string{"app.js", "style.css"} {
		b, err := fs.ReadFile(assets, "assets/"+name)
		if err != nil {
			return err
		}
		files[name] = newAsset(name, b)
	}
	index := newAsset("index.html", page.Bytes())
	mux.Handle("GET /{$}", serve(index))
	mux.Handle("GET /assets/{name}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := files[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(a).ServeHTTP(w, r)
	}))
	return nil
}

// serve answers a with the page's security headers; a browser revalidates
// it on every load (no-cache) and gets 304 while it is unchanged.
func serve(a asset) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
