package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
)

type fixedCache cache.Stats

func (f fixedCache) Stats() cache.Stats { return cache.Stats(f) }

type fixedUpstream resolver.Stats

func (f fixedUpstream) Stats() resolver.Stats { return resolver.Stats(f) }

func get(t *testing.T, h http.Handler, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestAdminStats(t *testing.T) {
	m := NewMetrics()
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: loopbackACL, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeTXT, 0))
	admin := NewAdmin(AdminOptions{
		Metrics:  m,
		Cache:    fixedCache{Entries: 5, Hits: 3, Misses: 1},
		Upstream: fixedUpstream{UpstreamQueries: 7, UpstreamTimeouts: 1, TCPFallbacks: 2},
	})
	w := get(t, admin.Handler(), "/stats", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"uptime_seconds", "queries", "cache", "upstream", "latency_ms"} {
		if _, ok := got[key]; !ok {
			t.Errorf("no %q in %s", key, w.Body)
		}
	}
	var s Stats
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Queries.Total != 1 || s.Queries.ByType["TXT"] != 1 || s.Cache.HitRatio != 0.75 || s.Upstream.TCPFallbacks != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestAdminToken(t *testing.T) {
	admin := NewAdmin(AdminOptions{Token: "s3cret"})
	if w := get(t, admin.Handler(), "/stats", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("no token: status %d", w.Code)
	}
	if w := get(t, admin.Handler(), "/stats", "wrong"); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d", w.Code)
	}
	if w := get(t, admin.Handler(), "/stats", "s3cret"); w.Code != http.StatusOK {
		t.Errorf("right token: status %d", w.Code)
	}
	if w := get(t, admin.Handler(), "/healthz", ""); w.Code != http.StatusOK {
		t.Errorf("healthz without token: status %d", w.Code)
	}
}

func TestAdminReadiness(t *testing.T) {
	ready := false
	admin := NewAdmin(AdminOptions{Ready: func() bool { return ready }})
	if w := get(t, admin.Handler(), "/readyz", ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("not ready: status %d", w.Code)
	}
	ready = true
	if w := get(t, admin.Handler(), "/readyz", ""); w.Code != http.StatusOK {
		t.Errorf("ready: status %d", w.Code)
	}
}
