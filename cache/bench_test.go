package cache

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// benchNames is how many distinct names the lookup and insert benchmarks
// spread over: with their RRsets, as many entries as a full cache of the
// default size (cache.size 100000) holds. A smaller cache would fit in the
// processor's caches and run the garbage collector far more often than a
// warm resolver's does.
//
// Scaling is measured as Go measures it, each Parallel benchmark on one
// core and then on two, alternating runs on a noisy machine:
//
//	go test -c -o /tmp/cache.test ./cache
//	for i in $(seq 6); do /tmp/cache.test -test.run '^$' -test.bench 'Parallel$' -test.benchtime 2s -test.cpu 1,2; done
//
// (The plain benchmarks run one goroutine with every core available: the
// garbage collector then works on a core of its own for free.)
const benchNames = 50_000

func benchCache(b *testing.B) (*Cache, []Query) {
	c := newCache(b, Options{MaxEntries: 4 * benchNames})
	qs := make([]Query, benchNames)
	for i := range qs {
		qs[i] = query(fmt.Sprintf("host-%d.example.com.", i), dns.TypeA)
		storeA(b, c, qs[i].Name, 3600, t0)
	}
	return c, qs
}

// BenchmarkLookup is a cache hit on one goroutine.
func BenchmarkLookup(b *testing.B) {
	c, qs := benchCache(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, ok := c.Answer(qs[i%len(qs)], t0); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchmarkLookupParallel is a cache hit on every core at once.
func BenchmarkLookupParallel(b *testing.B) {
	c, qs := benchCache(b)
	b.ReportAllocs()
	var seq atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			if _, _, ok := c.Answer(qs[i%len(qs)], t0); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

// zipfOrder is a sequence of indexes into benchNames drawn as real query
// streams are, a few names asked often and most seldom (Zipf, s=1.1).
func zipfOrder() []int {
	rng := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(rng, 1.1, 1, benchNames-1)
	order := make([]int, 1<<16)
	for i := range order {
		order[i] = int(z.Uint64())
	}
	return order
}

// BenchmarkLookupZipf is a cache hit on one goroutine, names asked as a
// real stream asks them.
func BenchmarkLookupZipf(b *testing.B) {
	c, qs := benchCache(b)
	order := zipfOrder()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, ok := c.Answer(qs[order[i%len(order)]], t0); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchmarkLookupZipfParallel is BenchmarkLookupZipf on every core at once.
func BenchmarkLookupZipfParallel(b *testing.B) {
	c, qs := benchCache(b)
	order := zipfOrder()
	b.ReportAllocs()
	var seq atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			if _, _, ok := c.Answer(qs[order[i%len(order)]], t0); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

func benchReplies(b *testing.B) ([]Query, []*dns.Msg) {
	qs := make([]Query, benchNames)
	ms := make([]*dns.Msg, benchNames)
	for i := range qs {
		name := fmt.Sprintf("host-%d.example.com.", i)
		qs[i] = query(name, dns.TypeA)
		ms[i] = aa(msg(b, dns.RcodeSuccess, []string{name + " 3600 IN A 192.0.2.1"}))
	}
	return qs, ms
}

// BenchmarkInsert stores answers (and their RRsets) on one goroutine.
func BenchmarkInsert(b *testing.B) {
	c := newCache(b, Options{MaxEntries: 4 * benchNames})
	qs, ms := benchReplies(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.StoreAnswer(qs[i%len(qs)], ms[i%len(ms)], t0)
		i++
	}
}

// BenchmarkInsertParallel stores answers on every core at once.
func BenchmarkInsertParallel(b *testing.B) {
	c := newCache(b, Options{MaxEntries: 4 * benchNames})
	qs, ms := benchReplies(b)
	b.ReportAllocs()
	var seq atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			c.StoreAnswer(qs[i%len(qs)], ms[i%len(ms)], t0)
			i++
		}
	})
}

// flood replays a popular workload mixed with a random-subdomain flood
// against a cache run as a resolver runs it (look up; on a miss, store
// the answer) and returns the popular names' hit ratio after warm-up.
//
// The popular workload is 1,000 names asked with a Zipf distribution
// (s=1.1), the shape of real query streams, at 1,000 queries a second of
// simulated time (answers live an hour); each popular query comes
// with floodPerQuery queries for names asked once, as under the lab's
// wildcard (*.wild.example.com). The cache holds 4,000 answers: room for
// every popular name, none for the flood.
func flood(t testing.TB, p Policy, floodPerQuery, queries int) float64 {
	c := newCache(t, Options{MaxEntries: 8_000, Policy: p})
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, 999)
	reply := func(name string) *dns.Msg {
		a := &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: []byte{192, 0, 2, 1}}
		return &dns.Msg{MsgHdr: dns.MsgHdr{Authoritative: true}, Answer: []dns.RR{a}}
	}
	now := t0
	ask := func(name string) bool {
		now = now.Add(time.Millisecond) // 1,000 queries a second
		q := query(name, dns.TypeA)
		if _, _, ok := c.Answer(q, now); ok {
			return true
		}
		c.StoreAnswer(q, reply(name), now)
		return false
	}
	hits, asked, junk := 0, 0, 0
	for i := range queries {
		hit := ask(fmt.Sprintf("www%d.popular.example.", zipf.Uint64()))
		if i >= queries/10 { // after warm-up
			asked++
			if hit {
				hits++
			}
		}
		for range floodPerQuery {
			junk++
			ask(fmt.Sprintf("r%d-%x.wild.example.com.", junk, rng.Uint32()))
		}
	}
	return float64(hits) / float64(asked)
}

// BenchmarkFloodHitRatio reports the popular names' hit ratio under a
// random-subdomain flood, for each policy and flood rate.
func BenchmarkFloodHitRatio(b *testing.B) {
	for _, rate := range []int{0, 4, 16} {
		for _, p := range []Policy{LRU, TwoQueue} {
			b.Run(fmt.Sprintf("flood=%dx/%s", rate, p), func(b *testing.B) {
				var ratio float64
				for b.Loop() {
					ratio = flood(b, p, rate, 20_000)
				}
				b.ReportMetric(100*ratio, "popular-hit-%")
			})
		}
	}
}

// TestFloodHitRatio holds the policies to what the benchmark shows: under
// a flood, 2Q keeps the popular names and LRU loses most of them.
func TestFloodHitRatio(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 100,000 queries per policy")
	}
	lru, twoQ := flood(t, LRU, 4, 20_000), flood(t, TwoQueue, 4, 20_000)
	calm := flood(t, LRU, 0, 20_000)
	t.Logf("popular-name hit ratio: no flood %.1f%%; 4 flood names per query: lru %.1f%%, 2q %.1f%%", 100*calm, 100*lru, 100*twoQ)
	if twoQ < calm-0.08 || twoQ < lru+0.05 {
		t.Errorf("2q %.3f under the flood, lru %.3f, no flood %.3f: want 2q near the calm ratio and above lru", twoQ, lru, calm)
	}
}
