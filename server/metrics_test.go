package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// TestTurnedAwayMetrics turns queries away in every way while a
// resolution holds the only recursion slot, and reads the counters from
// /metrics and /stats.
func TestTurnedAwayMetrics(t *testing.T) {
	m := NewMetrics()
	res := newBlockingResolver(t)
	clock := dnstest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	h, err := NewHandler(HandlerOptions{Resolver: res, ACL: loopbackACL, ACLAction: ActionDrop,
		RateLimit: RateLimit{QPS: 1, Burst: 1}, MaxRecursions: 1, Metrics: m, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeTXT, 0)) })
	<-res.entered
	released := false
	defer func() {
		if !released {
			close(res.release)
		}
	}()

	h.ServeDNS(udpClient("192.0.2.1"), newQuery("www.example.com.", dns.TypeA, 0))    // outside the ACL: dropped
	h.ServeDNS(udpClient("127.0.0.2"), newQuery("www.example.com.", dns.TypeA, 1232)) // no slot: SERVFAIL
	h.ServeDNS(udpClient("127.0.0.2"), newQuery("www.example.com.", dns.TypeA, 1232)) // over its rate: REFUSED

	admin := NewAdmin(AdminOptions{Metrics: m})
	body := get(t, admin.Handler(), "/metrics", "").Body.String()
	for _, want := range []string{
		`rootwalk_acl_rejected_total{action="drop"} 1`,
		`rootwalk_acl_rejected_total{action="refuse"} 0`,
		`rootwalk_ratelimited_total{action="refuse"} 1`,
		`rootwalk_ratelimited_total{action="drop"} 0`,
		`rootwalk_ratelimit_clients 2`,
		`rootwalk_recursions_active 1`,
		`rootwalk_recursions_max 1`,
		`rootwalk_recursion_limited_total{outcome="servfail"} 1`,
		`rootwalk_recursion_limited_total{outcome="cached"} 0`,
		`rootwalk_recursion_limited_total{outcome="stale"} 0`,
		`rootwalk_queries_total{qtype="A",rcode="SERVFAIL"} 1`,
		`rootwalk_queries_total{qtype="A",rcode="REFUSED"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}

	w := get(t, admin.Handler(), "/stats", "")
	if w.Code != http.StatusOK {
		t.Fatalf("/stats: status %d", w.Code)
	}
	var s Stats
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	want := QueriesJSON{
		ACL:         TurnedAwayJSON{Dropped: 1},
		RateLimited: RateLimitJSON{TurnedAwayJSON: TurnedAwayJSON{Refused: 1}, Clients: 2},
		Recursions:  RecursionsJSON{Active: 1, Max: 1, ServFail: 1},
	}
	got := s.Queries
	if got.ACL != want.ACL || got.RateLimited != want.RateLimited || got.Recursions != want.Recursions || got.Total != 2 {
		t.Errorf("/stats queries %+v, want %+v and 2 replies", got, want)
	}
	var raw map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"acl.refused", "acl.dropped", "ratelimited.refused", "ratelimited.dropped",
		"ratelimited.clients", "recursions.active", "recursions.max", "recursions.cached", "recursions.stale", "recursions.servfail"} {
		if !hasPath(raw, "queries."+path) {
			t.Errorf("/stats has no queries.%s: %s", path, w.Body)
		}
	}

	close(res.release)
	released = true
	wg.Wait()
	if s := m.Snapshot(); s.Recursions.Active != 0 || s.Total != 3 {
		t.Errorf("after: %d active, %d replies; want 0 and 3", s.Recursions.Active, s.Total)
	}
}
