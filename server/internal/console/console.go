// Package console is the web console the admin API serves at "/": one
// page (static/index.html) with its stylesheet and script, embedded in the
// binary, that draws traces, live statistics and the cache from the API's
// own JSON endpoints. Nothing is fetched from anywhere else: the page
// works offline, and its Content-Security-Policy allows only this origin.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// securityHeaders are sent with the console's files: only this origin's
// scripts, styles and API; no framing (clickjacking); no MIME sniffing.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

// Page serves the console's page (for GET /).
func Page() http.Handler {
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		panic("console: index.html is not embedded: " + err.Error()) // a build without it is broken
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page) // a client gone away is no error of ours
	})
}

// Assets serves the console's stylesheet and script under /console/.
func Assets() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("console: " + err.Error()) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix("/console/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		files.ServeHTTP(w, r)
	})
}
