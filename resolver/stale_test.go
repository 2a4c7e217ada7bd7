package resolver

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/miekg/dns"
)

// staleResolver is a resolver over the test tree that serves stale
// answers, with a cache that keeps them an hour.
func staleResolver(t *testing.T, net Exchanger, serveStale bool) (*Resolver, *mapCache, interface{ Advance(time.Duration) }) {
	t.Helper()
	c := newMapCache()
	c.staleFor = time.Hour
	r := newTestResolver(t, net, c)
	r.serveStale = serveStale
	t.Cleanup(r.Close)
	return r, c, r.clock.(interface{ Advance(time.Duration) })
}

// silence makes the servers at addrs stop answering anything.
func (f *fakeNet) silence(addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range addrs {
		f.servers[netip.MustParseAddr(a)] = table{}
	}
}

func TestServeStaleWhenAuthoritiesFail(t *testing.T) {
	net := newFakeNet(testTree(t))
	r, _, clock := staleResolver(t, net, true)
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if _, err := r.Resolve(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	net.silence("127.0.0.3", "127.0.0.4") // example.test's servers
	clock.Advance(time.Hour)              // the 3600 s answer has expired

	// walks counts the walks that failed: a stale answer served without
	// one is served from the recheck timer.
	resolve := func() (*Result, uint64) {
		t.Helper()
		before := r.Stats().Failures
		res, err := r.Resolve(t.Context(), q)
		if err != nil {
			t.Fatalf("stale answer expected: %v", err)
		}
		return res, r.Stats().Failures - before
	}
	res, walks := resolve()
	if !res.Stale || walks != 1 {
		t.Errorf("first: stale %v after %d failed walks; want a stale answer after trying the authorities", res.Stale, walks)
	}
	if ttl := res.Reply.Answer[0].Header().Ttl; ttl != staleTTL {
		t.Errorf("stale TTL %d, want %d", ttl, staleTTL)
	}
	clock.Advance(29 * time.Second)
	if res, walks := resolve(); !res.Stale || walks != 0 {
		t.Errorf("within the recheck timer: stale %v, %d walks; want stale and no walk", res.Stale, walks)
	}
	clock.Advance(time.Second)
	if res, walks := resolve(); !res.Stale || walks != 1 {
		t.Errorf("after 30 s: stale %v, %d walks; want the authorities tried again", res.Stale, walks)
	}
	if s := r.Stats(); s.StaleAnswers != 3 {
		t.Errorf("stats %+v, want 3 stale answers", s)
	}
}

func TestNoStaleAnswersWhenOff(t *testing.T) {
	net := newFakeNet(testTree(t))
	r, _, clock := staleResolver(t, net, false)
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if _, err := r.Resolve(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	net.silence("127.0.0.3", "127.0.0.4")
	clock.Advance(time.Hour)
	if res, err := r.Resolve(t.Context(), q); err == nil {
		t.Errorf("answered %v with serve-stale off", res.Reply)
	}
}

func TestStaleChainFollowsTheCache(t *testing.T) {
	net := newFakeNet(testTree(t))
	r, _, clock := staleResolver(t, net, true)
	q := dns.Question{Name: "alias.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if _, err := r.Resolve(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	net.silence("127.0.0.3", "127.0.0.4", "127.0.0.7")
	clock.Advance(time.Hour)
	res, err := r.Resolve(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stale || len(res.Reply.Answer) != 2 {
		t.Errorf("stale %v, answer %v; want the CNAME and its target's A, both stale", res.Stale, res.Reply.Answer)
	}
}

func TestStaleAnswerAfterTheClientTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeNet(testTree(t))
		var slow atomic.Bool
		release := make(chan struct{})
		net := ExchangerFunc(func(ctx context.Context, q *dns.Msg, s netip.AddrPort, d time.Duration) (Response, error) {
			if a := s.Addr(); slow.Load() && (a == netip.MustParseAddr("127.0.0.3") || a == netip.MustParseAddr("127.0.0.4")) {
				select {
				case <-release:
				case <-ctx.Done():
					return Response{}, ctx.Err()
				}
			}
			return fake.Exchange(ctx, q, s, d)
		})
		r, c, clock := staleResolver(t, net, true)
		q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatal(err)
		}
		slow.Store(true)
		clock.Advance(time.Hour)
		start := time.Now()
		res, err := r.Resolve(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); !res.Stale || waited != DefaultStaleAnswerAfter {
			t.Errorf("stale %v after %v; want a stale answer after %v", res.Stale, waited, DefaultStaleAnswerAfter)
		}
		// The walk goes on and refreshes the cache for the next client.
		close(release)
		synctest.Wait()
		if m, _, ok := c.Answer(Query{Question: q}, clock.(interface{ Now() time.Time }).Now()); !ok || m.Answer[0].Header().Ttl != 3600 {
			t.Errorf("cache after the walk: %v, %v; want a fresh answer", m, ok)
		}
	})
}

func TestPrefetchRefreshesBeforeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := newFakeNet(testTree(t))
		c := newMapCache()
		r := newTestResolver(t, net, c)
		r.prefetch = true
		defer r.Close()
		clock := r.clock.(interface {
			Now() time.Time
			Advance(time.Duration)
		})
		q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatal(err)
		}
		asked := func() int {
			n := 0
			for _, s := range net.queries() {
				if s == "127.0.0.3 www.example.test. A" || s == "127.0.0.4 www.example.test. A" {
					n++
				}
			}
			return n
		}
		clock.Advance(3000 * time.Second) // 600 s left of 3600: not yet
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := asked(); n != 1 {
			t.Fatalf("asked %d times before the last tenth of the TTL, want once", n)
		}
		clock.Advance(300 * time.Second) // 300 s left: refresh
		res, err := r.Resolve(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Upstream != 0 {
			t.Errorf("the client waited for the refresh (%d queries)", res.Upstream)
		}
		synctest.Wait()
		if n := asked(); n != 2 {
			t.Errorf("asked %d times, want the prefetch's second", n)
		}
		m, _, _ := c.Answer(Query{Question: q}, clock.Now())
		if ttl := m.Answer[0].Header().Ttl; ttl != 3600 {
			t.Errorf("TTL after the prefetch %d, want 3600", ttl)
		}
		if s := r.Stats(); s.Prefetches != 1 || s.PrefetchFailures != 0 {
			t.Errorf("stats %+v, want 1 prefetch", s)
		}
	})
}

func TestPrefetchFailureIsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := newFakeNet(testTree(t))
		r := newTestResolver(t, net, newMapCache())
		r.prefetch = true
		defer r.Close()
		clock := r.clock.(interface{ Advance(time.Duration) })
		q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatal(err)
		}
		net.silence("127.0.0.3", "127.0.0.4")
		clock.Advance(3300 * time.Second)
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatalf("the cached answer failed because its refresh did: %v", err)
		}
		synctest.Wait()
		if s := r.Stats(); s.Prefetches != 1 || s.PrefetchFailures != 1 {
			t.Errorf("stats %+v, want 1 prefetch, failed", s)
		}
	})
}
