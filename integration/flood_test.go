package integration

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/server"
)

// The random-subdomain flood workload: popular names asked with a Zipf
// distribution, the shape of real query streams, each popular query
// followed by floodPerQuery names asked once, all under the lab's
// wildcard. The cache has room for every popular name but not for the
// flood.
const (
	floodPopular  = 200   // distinct popular names
	floodZipf     = 1.1   // the popular names' Zipf exponent
	floodPerQuery = 4     // one-time names per popular query
	floodQueries  = 1_500 // popular queries, warm-up included
	floodWarmUp   = floodQueries / 10
	floodEntries  = 2_000 // cache.Options.MaxEntries
)

// TestFloodHitRatio measures, through the resolver and the lab, how often
// a popular name is answered from the cache while a random-subdomain flood
// runs (the issue: a flood thrashes a plain LRU and pushes popular names
// out), under each eviction policy, and checks that 2Q keeps more of them.
// A popular query is a hit when it costs the lab no query; queries are
// asked one at a time so the lab's count is exact.
func TestFloodHitRatio(t *testing.T) {
	lab := startLab(t, 0)
	ratios := map[cache.Policy]float64{}
	for _, p := range []cache.Policy{cache.LRU, cache.TwoQueue} {
		t.Run(string(p), func(t *testing.T) {
			c, err := cache.New(cache.Options{MaxEntries: floodEntries, Policy: p})
			if err != nil {
				t.Fatal(err)
			}
			// The stack's own cache goes unused: the resolver gets c. The
			// fast path is off: it would answer the popular names from
			// replies of its own, and this is about the cache's policy.
			s := startStackWith(t, lab, server.HandlerOptions{ReplayEntries: -1}, func(o *resolver.Options) { o.Cache = c })
			var ceiling float64
			ratios[p], ceiling = popularHitRatio(t, s)
			st := c.Stats()
			t.Logf("%s: popular hit ratio %.1f%% under a %dx flood (%.1f%% if nothing were evicted); "+
				"cache %d entries, %d answer and %d RRset evictions",
				p, 100*ratios[p], floodPerQuery, 100*ceiling, st.Entries, st.Answers.Evictions, st.RRsets.Evictions)
		})
	}
	if t.Failed() {
		return
	}
	t.Logf("popular hit ratio under a %dx flood: lru %.1f%%, 2q %.1f%%",
		floodPerQuery, 100*ratios[cache.LRU], 100*ratios[cache.TwoQueue])
	if ratios[cache.TwoQueue] <= ratios[cache.LRU] {
		t.Errorf("2q keeps %.1f%% of popular queries in the cache, lru %.1f%%: want 2q ahead",
			100*ratios[cache.TwoQueue], 100*ratios[cache.LRU])
	}
}

// popularHitRatio runs the flood workload against s and returns the share
// of popular queries after warm-up that the lab did not see, and the
// share that had been asked before (the ratio of a cache that never
// evicts).
func popularHitRatio(t *testing.T, s *stack) (ratio, ceiling float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2)) // the same stream for every policy
	zipf := rand.NewZipf(rng, floodZipf, 1, floodPopular-1)
	seen := make(map[uint64]bool, floodPopular)
	junk, hits, repeats := 0, 0, 0
	for i := range floodQueries {
		n := zipf.Uint64()
		before := s.lab.Queries()
		askWildcard(t, s, fmt.Sprintf("pop%d.wild.example.com.", n))
		if i >= floodWarmUp {
			if s.lab.Queries() == before {
				hits++
			}
			if seen[n] {
				repeats++
			}
		}
		seen[n] = true
		for range floodPerQuery {
			junk++
			askWildcard(t, s, fmt.Sprintf("r%d-%08x.wild.example.com.", junk, rng.Uint32()))
		}
	}
	asked := float64(floodQueries - floodWarmUp)
	return float64(hits) / asked, float64(repeats) / asked
}

// askWildcard asks s for name's A record, a millisecond after the last
// question on the stack's clock, and fails the test unless the answer is
// the lab's wildcard.
func askWildcard(t *testing.T, s *stack, name string) {
	t.Helper()
	s.clock.Advance(time.Millisecond) // 1,000 queries a second, as the cache sees time
	reply := ask(t, s.addr, "udp", name, dns.TypeA)
	if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 {
		t.Fatalf("%s A: %s with answer %v, want NOERROR with the wildcard's A", name, dns.RcodeToString[reply.Rcode], reply.Answer)
	}
	if a, ok := reply.Answer[0].(*dns.A); !ok || a.A.String() != "192.0.2.99" {
		t.Fatalf("%s A: answer %v, want 192.0.2.99", name, reply.Answer[0])
	}
}
