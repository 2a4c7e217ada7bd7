package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/resolver/trace"
)

// fixedCache is a fake cache with fixed counters and no entries.
type fixedCache struct{ stats cache.Stats }

func (f fixedCache) Stats() cache.Stats                          { return f.stats }
func (fixedCache) Entries(cache.Filter, time.Time) []cache.Entry { return nil }
func (fixedCache) Flush() int                                    { return 0 }
func (fixedCache) FlushName(string) int                          { return 0 }
func (fixedCache) FlushSubtree(string) int                       { return 0 }

// adminResolver is a fake resolver with fixed counters.
type adminResolver struct {
	fakeResolver
	stats resolver.Stats
}

func (a adminResolver) Stats() resolver.Stats { return a.stats }

func request(t *testing.T, h http.Handler, method, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Host = "127.0.0.1:9153" // as a client on the machine names it
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else if method != http.MethodGet {
		req.Header.Set(ConsoleHeader, "1") // as the console and curl users send it
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
	h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeTXT, 1232))
	stale, err := NewHandler(HandlerOptions{Resolver: staleAnswering(t, dns.RcodeSuccess), ACL: loopbackACL, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	stale.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeA, 0))
	admin := NewAdmin(AdminOptions{
		Metrics: m,
		Cache: fixedCache{cache.Stats{Entries: 12, Bytes: 4096,
			Answers:    cache.KindStats{Entries: 5, Hits: 3, Misses: 1, Inserts: 6, Evictions: 1, Expired: 2, Stale: 4, Prefetches: 7},
			NameErrors: cache.KindStats{Entries: 2, Hits: 9, Evictions: 2, Flushed: 3},
			RRsets:     cache.KindStats{Entries: 5, Hits: 8, Evictions: 4, Refused: 11}}},
		Resolver: adminResolver{answering(t, 1), resolver.Stats{UpstreamQueries: 7, UpstreamTimeouts: 1, TCPFallbacks: 2,
			Resolutions: 20, Prefetches: 5, PrefetchFailures: 1, StaleAnswers: 3}},
	})
	w := get(t, admin.Handler(), "/stats", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	// DESIGN.md's /stats contract, by its JSON names.
	for _, path := range []string{
		"uptime_seconds", "queries.total", "queries.by_type", "queries.by_rcode",
		"cache.entries", "cache.hits", "cache.misses", "cache.evictions", "cache.hit_ratio",
		"upstream.queries", "upstream.timeouts", "upstream.tcp_fallbacks",
		"latency_ms.p50", "latency_ms.p90", "latency_ms.p99",
		"cache.answers.stale", "cache.nxdomain.flushed", "cache.rrsets.refused",
		"resolutions.prefetches", "resolutions.prefetch_failures", "resolutions.stale_answers", "queries.stale",
	} {
		if !hasPath(got, path) {
			t.Errorf("no %q in %s", path, w.Body)
		}
	}
	var s Stats
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"queries.total", s.Queries.Total, uint64(3)},
		{"queries.by_type.TXT", s.Queries.ByType["TXT"], uint64(2)},
		{"queries.stale", s.Queries.Stale, uint64(1)},
		{"cache.entries", s.Cache.Entries, 12},
		{"cache.hits", s.Cache.Hits, uint64(3)},
		{"cache.evictions", s.Cache.Evictions, uint64(7)},
		{"cache.hit_ratio", s.Cache.HitRatio, 0.75},
		{"cache.answers", s.Cache.Answers, KindJSON{Entries: 5, Hits: 3, Misses: 1, Inserts: 6, Evictions: 1, Expired: 2, Stale: 4, Prefetches: 7}},
		{"cache.nxdomain", s.Cache.NameErrors, KindJSON{Entries: 2, Hits: 9, Evictions: 2, Flushed: 3}},
		{"cache.rrsets", s.Cache.RRsets, KindJSON{Entries: 5, Hits: 8, Evictions: 4, Refused: 11}},
		{"upstream.tcp_fallbacks", s.Upstream.TCPFallbacks, uint64(2)},
		{"resolutions", *s.Resolutions, ResolutionJSON{Total: 20, Prefetches: 5, PrefetchFailures: 1, StaleAnswers: 3}},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("/stats %s = %+v, want %+v", c.what, c.got, c.want)
		}
	}
}

// hasPath reports whether the dotted path names a value in a decoded JSON
// object.
func hasPath(obj map[string]any, path string) bool {
	head, rest, nested := strings.Cut(path, ".")
	v, ok := obj[head]
	if !ok || !nested {
		return ok
	}
	inner, ok := v.(map[string]any)
	return ok && hasPath(inner, rest)
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
		Metrics: m,
		Cache: fixedCache{cache.Stats{Answers: cache.KindStats{Hits: 4, Stale: 2, Prefetches: 6},
			NameErrors: cache.KindStats{Flushed: 5}, RRsets: cache.KindStats{Misses: 2, Refused: 3}}},
		Resolver: adminResolver{answering(t, 1), resolver.Stats{UpstreamQueries: 7, Prefetches: 8, PrefetchFailures: 1, StaleAnswers: 9}},
	})
	w := get(t, admin.Handler(), "/metrics", "")
	body := w.Body.String()
	for _, want := range []string{
		`rootwalk_queries_total{qtype="AAAA",rcode="NXDOMAIN"} 3`,
		`rootwalk_query_duration_seconds_count 3`,
		`rootwalk_cache_hits_total{cache="answers"} 4`,
		`rootwalk_cache_misses_total{cache="rrsets"} 2`,
		`rootwalk_cache_hits_total{cache="nxdomain"} 0`,
		`rootwalk_cache_stale_total{cache="answers"} 2`,
		`rootwalk_cache_prefetches_total{cache="answers"} 6`,
		`rootwalk_cache_refused_total{cache="rrsets"} 3`,
		`rootwalk_cache_flushed_total{cache="nxdomain"} 5`,
		`rootwalk_prefetches_total 8`,
		`rootwalk_prefetch_failures_total 1`,
		`rootwalk_stale_answers_total 9`,
		`rootwalk_stale_replies_total 0`,
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
		Resolver: adminResolver{fakeResolver: answering(t, 1)}, Cache: fixedCache{}})
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/stats"}, {http.MethodGet, "/metrics"}, {http.MethodGet, "/trace?name=www.example.com"},
		{http.MethodGet, "/querylog"}, {http.MethodGet, "/cache"}, {http.MethodPost, "/cache/flush"},
	} {
		if w := request(t, admin.Handler(), req.method, req.path, ""); w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without token: status %d", req.method, req.path, w.Code)
		}
		if w := request(t, admin.Handler(), req.method, req.path, "wrong"); w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong token: status %d", req.method, req.path, w.Code)
		}
		if w := request(t, admin.Handler(), req.method, req.path, "s3cret"); w.Code != http.StatusOK {
			t.Errorf("%s %s with the token: status %d", req.method, req.path, w.Code)
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
	res := adminResolver{fakeResolver: func(ctx context.Context, q resolver.Query) (*resolver.Result, error) {
		resolver.ContextTracer(ctx).Event(resolver.Event{Kind: resolver.EventCacheHit, Question: q.Question})
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
