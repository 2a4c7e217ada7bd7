package resolver

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/miekg/dns"
)

func TestIdenticalQuestionsShareOneWalk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeNet(testTree(t))
		release := make(chan struct{})
		var exchanges atomic.Int32
		net := ExchangerFunc(func(ctx context.Context, q *dns.Msg, s netip.AddrPort, d time.Duration) (Response, error) {
			exchanges.Add(1)
			<-release // hold the first walk until every caller has asked
			return fake.Exchange(ctx, q, s, d)
		})
		r := newTestResolver(t, net, newMapCache())
		q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
		const callers = 10
		var wg sync.WaitGroup
		results := make([]*Result, callers)
		for i := range callers {
			wg.Go(func() {
				res, err := r.Resolve(t.Context(), q)
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = res
			})
		}
		synctest.Wait() // all ten are blocked: one in the exchange, nine waiting for it
		close(release)
		wg.Wait()
		if n := exchanges.Load(); n != 3 {
			t.Errorf("%d exchanges for %d identical questions, want the one walk's 3", n, callers)
		}
		shared := 0
		for _, res := range results {
			if res != nil && res.Shared {
				shared++
			}
		}
		if shared != callers {
			t.Errorf("%d results marked shared, want %d", shared, callers)
		}
		if results[0] != nil && results[1] != nil && results[0].Reply == results[1].Reply {
			t.Error("two callers got the same message")
		}
	})
}

func TestCallerGivingUpDoesNotCancelTheWalk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeNet(testTree(t))
		release := make(chan struct{})
		net := ExchangerFunc(func(ctx context.Context, q *dns.Msg, s netip.AddrPort, d time.Duration) (Response, error) {
			<-release
			return fake.Exchange(ctx, q, s, d)
		})
		r := newTestResolver(t, net, newMapCache())
		q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
		impatient, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, err := r.Resolve(impatient, q)
			errc <- err
		}()
		var patient error
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, patient = r.Resolve(t.Context(), q)
		}()
		synctest.Wait()
		cancel() // the first caller gives up
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("impatient caller: %v, want canceled", err)
		}
		close(release)
		<-done
		if patient != nil {
			t.Errorf("the other caller failed with %v after the first gave up", patient)
		}
	})
}

func TestFailuresAreRememberedWithBackoff(t *testing.T) {
	net := newFakeNet(testTree(t))
	r := newTestResolver(t, net, nil)
	clock := r.clock.(interface {
		Now() time.Time
		Advance(time.Duration)
	})
	q := dns.Question{Name: "refused.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	resolve := func() (int, error) {
		before := len(net.queries())
		_, err := r.Resolve(t.Context(), q)
		return len(net.queries()) - before, err
	}
	steps := []struct {
		advance    time.Duration
		wantCached bool
	}{
		{0, false},                      // fails: remembered for 1 s
		{0, true},                       // answered from the failure cache
		{999 * time.Millisecond, true},  // still
		{time.Millisecond, false},       // expired: walks, fails again: 2 s
		{1999 * time.Millisecond, true}, // backoff doubled
		{time.Millisecond, false},       // walks again: 4 s
		{3 * time.Second, true},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		sent, err := resolve()
		if err == nil {
			t.Fatalf("step %d: resolved", i)
		}
		if cached := errors.Is(err, ErrCachedFailure); cached != s.wantCached {
			t.Errorf("step %d: cached %v (%v), want %v", i, cached, err, s.wantCached)
		}
		if (sent == 0) != s.wantCached {
			t.Errorf("step %d: %d queries sent", i, sent)
		}
		if !errors.Is(err, ErrLameDelegation) {
			t.Errorf("step %d: %v does not keep the original cause", i, err)
		}
	}
}

func TestIdenticalUpstreamQueriesAreShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// www.glueless.test and www.poison.test both need ns.host.other's
		// address; asked at once, they share those upstream queries.
		fake := newFakeNet(testTree(t))
		release := make(chan struct{})
		var mu sync.Mutex
		count := map[string]int{}
		net := ExchangerFunc(func(ctx context.Context, q *dns.Msg, s netip.AddrPort, d time.Duration) (Response, error) {
			name := strings.ToLower(q.Question[0].Name)
			mu.Lock()
			count[s.Addr().String()+" "+name]++
			mu.Unlock()
			if name == "ns.host.other." {
				<-release
			}
			return fake.Exchange(ctx, q, s, d)
		})
		r := newTestResolver(t, net, newMapCache())
		var wg sync.WaitGroup
		for _, name := range []string{"www.glueless.test.", "www.poison.test."} {
			wg.Go(func() {
				if _, err := r.Resolve(t.Context(), dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		if n := count["127.0.0.1 ns.host.other."]; n != 1 {
			t.Errorf("the root was asked %d times for ns.host.other., want once for both walks (all: %v)", n, count)
		}
	})
}

func TestPanicInSharedWorkIsAnError(t *testing.T) {
	boom := ExchangerFunc(func(context.Context, *dns.Msg, netip.AddrPort, time.Duration) (Response, error) {
		panic("exchanger bug")
	})
	r := newTestResolver(t, boom, nil)
	_, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if !errors.Is(err, ErrInternal) {
		t.Errorf("error %v, want %v", err, ErrInternal)
	}
}
