package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/resolver/trace"
)

type fixedCache cache.Stats

func (f fixedCache) Stats() cache.Stats { return cache.Stats(f) }

// adminResolver is a fake resolver with fixed counters.
type adminResolver struct {
	fakeResolver
	stats resolver.Stats
}

func (a adminResolver) Stats() resolver.Stats { return a.stats }

func request(t *testing.T, h http.Handler, method, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func get(t *testing.T, h http.Handler, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	return request(t, h, http.MethodGet, path, token)
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
		Cache:    fixedCache{Answers: cache.KindStats{Entries: 5, Hits: 3, Misses: 1}},
		Resolver: adminResolver{answering(t, 1), resolver.Stats{UpstreamQueries: 7, UpstreamTimeouts: 1, TCPFallbacks: 2}},
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

func TestAdminMetrics(t *testing.T) {
	m := NewMetrics()
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: loopbackACL, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.ServeDNS(udpClient("127.0.0.1"), newQuery("nope.example.com.", dns.TypeAAAA, 0))
	}
	admin := NewAdmin(AdminOptions{
		Metrics:  m,
		Cache:    fixedCache{Answers: cache.KindStats{Hits: 4}, Delegations: cache.KindStats{Misses: 2}},
		Resolver: adminResolver{answering(t, 1), resolver.Stats{UpstreamQueries: 7}},
	})
	w := get(t, admin.Handler(), "/metrics", "")
	body := w.Body.String()
	for _, want := range []string{
		`rootwalk_queries_total{qtype="AAAA",rcode="NXDOMAIN"} 3`,
		`rootwalk_query_duration_seconds_count 3`,
		`rootwalk_cache_hits_total{cache="answers"} 4`,
		`rootwalk_cache_misses_total{cache="delegations"} 2`,
		`rootwalk_upstream_queries_total 7`,
		`rootwalk_upstream_rtt_seconds_bucket{le="+Inf"} 0`,
		`rootwalk_resolutions_in_flight 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
}

func TestAdminToken(t *testing.T) {
	admin := NewAdmin(AdminOptions{Token: "s3cret", QueryLog: NewQueryLog(nil, false),
		Resolver: adminResolver{fakeResolver: answering(t, 1)}})
	for _, path := range []string{"/stats", "/metrics", "/trace?name=www.example.com", "/querylog"} {
		if w := get(t, admin.Handler(), path, ""); w.Code != http.StatusUnauthorized {
			t.Errorf("%s without token: status %d", path, w.Code)
		}
		if w := get(t, admin.Handler(), path, "wrong"); w.Code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: status %d", path, w.Code)
		}
		if w := get(t, admin.Handler(), path, "s3cret"); w.Code != http.StatusOK {
			t.Errorf("%s with the token: status %d", path, w.Code)
		}
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

func TestAdminTrace(t *testing.T) {
	var sawCache bool
	res := adminResolver{fakeResolver: func(ctx context.Context, q dns.Question) (*resolver.Result, error) {
		resolver.ContextTracer(ctx).Event(resolver.Event{Kind: resolver.EventCacheHit, Question: q})
		_, sawCache = resolver.ContextCache(ctx)
		return answering(t, 1)(ctx, q)
	}}
	admin := NewAdmin(AdminOptions{Resolver: res})
	tests := []struct {
		path      string
		wantCode  int
		wantCold  bool
		wantRcode string
	}{
		{"/trace?name=www.example.com&type=txt", http.StatusOK, false, "NOERROR"},
		{"/trace?name=nope.example.com&cold=1", http.StatusOK, true, "NXDOMAIN"},
		{"/trace", http.StatusBadRequest, false, ""},
		{"/trace?name=a..b", http.StatusBadRequest, false, ""},
		{"/trace?name=www.example.com&type=NOPE", http.StatusBadRequest, false, ""},
		{"/trace?name=www.example.com&cold=maybe", http.StatusBadRequest, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			sawCache = false
			w := get(t, admin.Handler(), tc.path, "")
			if w.Code != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantCode, w.Body)
			}
			if tc.wantCode != http.StatusOK {
				return
			}
			var tr trace.Trace
			if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
				t.Fatal(err)
			}
			if tr.Rcode != tc.wantRcode || len(tr.Steps) != 1 || tr.Steps[0].Kind != "cache-hit" {
				t.Errorf("trace %+v", tr)
			}
			if sawCache != tc.wantCold {
				t.Errorf("private cache %v, want %v", sawCache, tc.wantCold)
			}
		})
	}
}

func TestAdminQueryLog(t *testing.T) {
	ql := NewQueryLog(nil, false)
	admin := NewAdmin(AdminOptions{QueryLog: ql})
	if w := request(t, admin.Handler(), http.MethodPost, "/querylog?enabled=1", ""); w.Code != http.StatusOK || !ql.Enabled() {
		t.Errorf("enable: status %d, enabled %v", w.Code, ql.Enabled())
	}
	if w := get(t, admin.Handler(), "/querylog", ""); !strings.Contains(w.Body.String(), `"enabled": true`) {
		t.Errorf("GET /querylog: %s", w.Body)
	}
	if w := request(t, admin.Handler(), http.MethodPost, "/querylog?enabled=0", ""); w.Code != http.StatusOK || ql.Enabled() {
		t.Errorf("disable: status %d, enabled %v", w.Code, ql.Enabled())
	}
	for _, bad := range []string{"/querylog", "/querylog?enabled=perhaps"} {
		if w := request(t, admin.Handler(), http.MethodPost, bad, ""); w.Code != http.StatusBadRequest {
			t.Errorf("POST %s: status %d, want 400", bad, w.Code)
		}
	}
}
