package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
)

var _ CacheReader = (*cache.Cache)(nil)

// blockingResolver holds every resolution until released, and counts the
// resolutions it was asked for.
type blockingResolver struct {
	entered chan struct{} // one send per resolution that started
	release chan struct{} // closed to let them all finish
	asked   atomic.Int64
	answer  fakeResolver
}

func newBlockingResolver(t *testing.T) *blockingResolver {
	return &blockingResolver{entered: make(chan struct{}, 100), release: make(chan struct{}), answer: answering(t, 1)}
}

func (b *blockingResolver) ResolveQuery(ctx context.Context, q resolver.Query) (*resolver.Result, error) {
	b.asked.Add(1)
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return b.answer(ctx, q)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// mapCache is a CacheReader of fixed fresh and stale answers, by name.
type mapCache struct {
	fresh, stale map[string]*dns.Msg
}

func (c mapCache) Known(q resolver.Query, _ time.Time) (*dns.Msg, bool) {
	m, ok := c.fresh[q.Name]
	if !ok {
		return nil, false
	}
	return m.Copy(), true
}

func (c mapCache) StaleAnswer(q resolver.Query, _ time.Time) (*dns.Msg, bool) {
	m, ok := c.stale[q.Name]
	if !ok {
		return nil, false
	}
	return m.Copy(), true
}

// TestHandlerRecursionLimit fills every recursion slot with resolutions
// that block, then asks once more: the query must be answered at once,
// from the cache if it can be, else SERVFAIL with an EDE, without asking
// the resolver.
func TestHandlerRecursionLimit(t *testing.T) {
	cached := &dns.Msg{Answer: dnstest.RRs(t, "cached.example. 120 IN A 192.0.2.10")}
	staleNX := &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: dns.RcodeNameError},
		Ns: dnstest.RRs(t, "example. 30 IN SOA ns.example. host.example. 1 2 3 4 30")}
	staleA := &dns.Msg{Answer: dnstest.RRs(t, "old.example. 30 IN A 192.0.2.11")}
	full := mapCache{
		fresh: map[string]*dns.Msg{"cached.example.": cached},
		stale: map[string]*dns.Msg{"old.example.": staleA, "gone.example.": staleNX},
	}
	tests := []struct {
		name        string
		cache       CacheReader
		qname       string
		edns        uint16
		wantRcode   int
		wantAnswer  []string
		wantEDE     int // -1: none
		wantText    string
		wantOutcome RecursionStats
	}{
		{name: "no cache: SERVFAIL with EDE 0 and a reason", qname: "cold.example.", edns: 1232,
			wantRcode: dns.RcodeServerFailure, wantEDE: int(dns.ExtendedErrorCodeOther), wantText: tooManyRecursions,
			wantOutcome: RecursionStats{ServFail: 1}},
		{name: "without EDNS: SERVFAIL, no OPT", qname: "cold.example.",
			wantRcode: dns.RcodeServerFailure, wantEDE: -1, wantOutcome: RecursionStats{ServFail: 1}},
		{name: "a cache miss: SERVFAIL", cache: full, qname: "cold.example.", edns: 1232,
			wantRcode: dns.RcodeServerFailure, wantEDE: int(dns.ExtendedErrorCodeOther), wantText: tooManyRecursions,
			wantOutcome: RecursionStats{ServFail: 1}},
		{name: "a cache hit is still served", cache: full, qname: "cached.example.", edns: 1232,
			wantAnswer: []string{"cached.example.\t120\tIN\tA\t192.0.2.10"}, wantEDE: -1,
			wantOutcome: RecursionStats{Cache: 1}},
		{name: "an expired answer is served stale, with EDE 3", cache: full, qname: "old.example.", edns: 1232,
			wantAnswer: []string{"old.example.\t30\tIN\tA\t192.0.2.11"}, wantEDE: int(dns.ExtendedErrorCodeStaleAnswer),
			wantOutcome: RecursionStats{Stale: 1}},
		{name: "a stale NXDOMAIN, with EDE 19", cache: full, qname: "gone.example.", edns: 1232,
			wantRcode: dns.RcodeNameError, wantEDE: int(dns.ExtendedErrorCodeStaleNXDOMAINAnswer),
			wantOutcome: RecursionStats{Stale: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const slots = 2
			res := newBlockingResolver(t)
			m := NewMetrics()
			var logs bytes.Buffer
			h, err := NewHandler(HandlerOptions{Resolver: res, ACL: loopbackACL, MaxRecursions: slots, Cache: tc.cache,
				Metrics: m, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			held := make([]*dnstest.Recorder, slots)
			for i := range held {
				held[i] = udpClient("127.0.0.1")
				wg.Go(func() { h.ServeDNS(held[i], newQuery("www.example.com.", dns.TypeTXT, 0)) })
			}
			defer wg.Wait()
			released := false
			defer func() {
				if !released {
					close(res.release)
				}
			}()
			for range slots {
				<-res.entered
			}
			if got := m.Snapshot().Recursions; got.Active != slots || got.Max != slots {
				t.Fatalf("recursions %+v with every slot taken, want %d of %d active", got, slots, slots)
			}

			w := udpClient("127.0.0.1")
			q := newQuery(tc.qname, dns.TypeA, tc.edns)
			h.ServeDNS(w, q)
			if n := res.asked.Load(); n != slots {
				t.Errorf("resolver asked %d times, want %d: the query past the cap must not reach it", n, slots)
			}
			got := w.Reply()
			if got == nil {
				t.Fatal("no reply past the cap")
			}
			if got.Rcode != tc.wantRcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.wantRcode])
			}
			if answer := dnstest.Sorted(got.Answer); strings.Join(answer, "\n") != strings.ToLower(strings.Join(tc.wantAnswer, "\n")) {
				t.Errorf("answer %q, want %q", answer, tc.wantAnswer)
			}
			ede := findEDE(got)
			switch {
			case tc.wantEDE < 0 && ede != nil:
				t.Errorf("EDE %v, want none", ede)
			case tc.wantEDE >= 0 && (ede == nil || int(ede.InfoCode) != tc.wantEDE || ede.ExtraText != tc.wantText):
				t.Errorf("EDE %v, want code %d text %q", ede, tc.wantEDE, tc.wantText)
			}
			if (got.IsEdns0() != nil) != (tc.edns != 0) {
				t.Errorf("OPT in reply %v, want %v", got.IsEdns0() != nil, tc.edns != 0)
			}
			if warned := strings.Contains(logs.String(), "level=WARN"); warned != (tc.wantOutcome.ServFail > 0) {
				t.Errorf("warned %v, want %v: %s", warned, tc.wantOutcome.ServFail > 0, logs.String())
			}

			close(res.release)
			released = true
			wg.Wait()
			for i, w := range held {
				if r := w.Reply(); r == nil || r.Rcode != dns.RcodeSuccess {
					t.Errorf("held query %d: reply %v, want NOERROR once released", i, r)
				}
			}
			s := m.Snapshot().Recursions
			want := tc.wantOutcome
			want.Max = slots
			if s != want {
				t.Errorf("recursions %+v after, want %+v", s, want)
			}
		})
	}
}

// TestRecursionSlotsComeBack checks that a slot is given back however the
// resolution ends: an answer, an error, a panic.
func TestRecursionSlotsComeBack(t *testing.T) {
	tests := []struct {
		name string
		res  fakeResolver
	}{
		{"answer", answering(t, 1)},
		{"error", func(context.Context, resolver.Query) (*resolver.Result, error) {
			return nil, resolver.ErrNoReachableAuthority
		}},
		{"panic", func(context.Context, resolver.Query) (*resolver.Result, error) { panic("boom") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics()
			h, err := NewHandler(HandlerOptions{Resolver: tc.res, ACL: loopbackACL, MaxRecursions: 1, Metrics: m})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				w := udpClient("127.0.0.1")
				h.ServeDNS(w, newQuery("www.example.com.", dns.TypeTXT, 1232))
				if ede := findEDE(w.Reply()); ede != nil && ede.ExtraText == tooManyRecursions {
					t.Fatalf("query %d: %v: the slot was not given back", i, ede)
				}
			}
			if s := m.Snapshot().Recursions; s.Active != 0 || s.ServFail != 0 {
				t.Errorf("recursions %+v, want none active and none turned away", s)
			}
		})
	}
}

// TestRecursionLimitConcurrent runs many queries at once through a
// handler whose resolver blocks: at no time do more than the cap reach
// the resolver, and every query gets exactly one reply.
func TestRecursionLimitConcurrent(t *testing.T) {
	const slots, queries = 4, 64
	var inside, most atomic.Int64
	release := make(chan struct{})
	res := fakeResolver(func(ctx context.Context, q resolver.Query) (*resolver.Result, error) {
		n := inside.Add(1)
		defer inside.Add(-1)
		for {
			old := most.Load()
			if n <= old || most.CompareAndSwap(old, n) {
				break
			}
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &resolver.Result{Reply: new(dns.Msg)}, nil
	})
	m := NewMetrics()
	h, err := NewHandler(HandlerOptions{Resolver: res, ACL: loopbackACL, MaxRecursions: slots, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	recorders := make([]*dnstest.Recorder, queries)
	var wg sync.WaitGroup
	for i := range recorders {
		recorders[i] = udpClient("127.0.0.1")
		wg.Go(func() { h.ServeDNS(recorders[i], newQuery("www.example.com.", dns.TypeA, 0)) })
	}
	// Those turned away reply at once; wait until every query holds a
	// slot or was turned away, then let the resolutions finish.
	deadline := time.Now().Add(10 * time.Second)
	for r := m.Snapshot().Recursions; r.ServFail+uint64(r.Active) < queries; r = m.Snapshot().Recursions {
		if time.Now().After(deadline) {
			t.Fatalf("recursions %+v: stuck", m.Snapshot().Recursions)
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	close(release)
	wg.Wait()
	if got := most.Load(); got != slots {
		t.Errorf("%d resolutions at once at most, want the cap, %d", got, slots)
	}
	s := m.Snapshot()
	if s.Total != queries || s.Recursions.Active != 0 || s.Recursions.ServFail != queries-slots || s.ByRcode["NOERROR"] != slots {
		t.Errorf("%d replies, %+v, by rcode %v; want %d replies, each NOERROR or turned away", s.Total, s.Recursions, s.ByRcode, queries)
	}
	for i, w := range recorders {
		if len(w.Msgs) != 1 {
			t.Errorf("query %d: %d replies", i, len(w.Msgs))
		}
	}
}
