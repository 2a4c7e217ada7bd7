package server

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rootwalk/rootwalk/cache"
)

// guarded sends one request to an admin API with a cache, from host, with
// the given headers, and returns the status.
func guarded(t *testing.T, a *Admin, method, path, host string, headers map[string]string) int {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Host = host
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, req)
	return w.Code
}

func TestAdminGuardsHost(t *testing.T) {
	c, clock := cacheFixture(t)
	a := NewAdmin(AdminOptions{Cache: c, Clock: clock, AllowedHosts: []string{"resolver.example.net"}})
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:9153", http.StatusOK},
		{"[::1]:9153", http.StatusOK},
		{"192.0.2.53:9153", http.StatusOK}, // an IP address is no rebinding
		{"localhost:9153", http.StatusOK},
		{"console.localhost", http.StatusOK},
		{"Resolver.Example.NET:9153", http.StatusOK}, // configured
		{"attacker.example:9153", http.StatusForbidden},
		{"localhost.attacker.example", http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		for _, path := range []string{"/stats", "/cache?name=www.example.com", "/", "/healthz"} {
			if got := guarded(t, a, http.MethodGet, path, tc.host, nil); got != tc.want {
				t.Errorf("GET %s with Host %q: status %d, want %d", path, tc.host, got, tc.want)
			}
		}
	}
}

func TestAdminGuardsStateChanges(t *testing.T) {
	c, clock := cacheFixture(t)
	a := NewAdmin(AdminOptions{Cache: c, Clock: clock})
	const host = "127.0.0.1:9153"
	// A cross-site form (no custom header, or another site's Origin) is refused.
	if got := guarded(t, a, http.MethodPost, "/cache/flush", host, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); got != http.StatusForbidden {
		t.Errorf("POST without %s: status %d, want 403", ConsoleHeader, got)
	}
	if got := guarded(t, a, http.MethodPost, "/cache/flush", host, map[string]string{ConsoleHeader: "1", "Origin": "http://attacker.example"}); got != http.StatusForbidden {
		t.Errorf("POST from another origin: status %d, want 403", got)
	}
	if n := len(c.Entries(cache.Filter{}, clock.Now())); n != 11 {
		t.Fatalf("refused requests flushed the cache: %d entries left, want 11", n)
	}
	// The console's own request: the header, and its own origin.
	if got := guarded(t, a, http.MethodPost, "/cache/flush?name=www.example.com", host, map[string]string{ConsoleHeader: "1", "Origin": "http://" + host}); got != http.StatusOK {
		t.Errorf("POST with %s from the same origin: status %d, want 200", ConsoleHeader, got)
	}

	// With a token, the token alone will do (curl, scripts), and the
	// header alone will not pass the token check.
	tok := NewAdmin(AdminOptions{Cache: c, Clock: clock, Token: "s3cret"})
	if got := guarded(t, tok, http.MethodPost, "/cache/flush", host, map[string]string{"Authorization": "Bearer s3cret"}); got != http.StatusOK {
		t.Errorf("POST with the token: status %d, want 200", got)
	}
	if got := guarded(t, tok, http.MethodPost, "/cache/flush", host, map[string]string{ConsoleHeader: "1"}); got != http.StatusUnauthorized {
		t.Errorf("POST with the header but no token: status %d, want 401", got)
	}
}

func TestAdminSendsNoCORSHeaders(t *testing.T) {
	a := NewAdmin(AdminOptions{})
	for _, method := range []string{http.MethodGet, http.MethodOptions} {
		req := httptest.NewRequest(method, "/stats", nil)
		req.Host = "127.0.0.1:9153"
		req.Header.Set("Origin", "http://127.0.0.1:9153")
		req.Header.Set("Access-Control-Request-Method", "POST")
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, req)
		for k := range w.Header() {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("%s /stats sent %s", method, k)
			}
		}
	}
}

func TestConsolePage(t *testing.T) {
	a := NewAdmin(AdminOptions{})
	for path, want := range map[string]string{
		"/":                    "text/html",
		"/console/console.js":  "javascript",
		"/console/console.css": "text/css",
	} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "localhost:9153"
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), want) {
			t.Errorf("GET %s: %d %q, want 200 and %s", path, w.Code, w.Header().Get("Content-Type"), want)
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
	}
	// Nothing in the page, its stylesheet or its script loads anything
	// from another site.
	external := regexp.MustCompile(`(?i)((src|href|action)\s*=\s*["']?(https?:)?//)|(url\(\s*["']?(https?:)?//)|@import|fetch\(\s*["'](https?:)?//`)
	for _, path := range []string{"/", "/console/console.js", "/console/console.css"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "localhost"
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, req)
		if m := external.FindString(w.Body.String()); m != "" {
			t.Errorf("%s refers to another site: %q", path, m)
		}
	}
}
