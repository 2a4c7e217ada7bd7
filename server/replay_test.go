package server

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
)

// cachedAnswerer answers every question with its records with one record of TTL 60,
// as if from the cache, and counts the questions it was asked.
type cachedAnswerer struct {
	asked atomic.Int64
	rr    []dns.RR
}

func (c *cachedAnswerer) ResolveQuery(_ context.Context, q resolver.Query) (*resolver.Result, error) {
	c.asked.Add(1)
	m := new(dns.Msg)
	for _, rr := range c.rr {
		m.Answer = append(m.Answer, dns.Copy(rr))
	}
	return &resolver.Result{Reply: m}, nil
}

// replayStack is a listener over a handler with the fast path, a fake
// clock and a counting resolver.
type replayStack struct {
	res     *cachedAnswerer
	h       *Handler
	l       *Listener
	clock   *dnstest.Clock
	metrics *Metrics
	qlog    *QueryLog
}

func startReplayStack(t *testing.T) *replayStack {
	t.Helper()
	s := &replayStack{
		res:     &cachedAnswerer{rr: dnstest.RRs(t, "www.example.com. 60 IN A 192.0.2.1")},
		clock:   dnstest.NewClock(time.Unix(1_800_000_000, 0)),
		metrics: NewMetrics(),
		qlog:    NewQueryLog(nil, false),
	}
	var err error
	s.h, err = NewHandler(HandlerOptions{Resolver: s.res, ACL: loopbackACL, Metrics: s.metrics, QueryLog: s.qlog, Clock: s.clock})
	if err != nil {
		t.Fatal(err)
	}
	s.l = startListener(t, s.h, ListenOptions{})
	return s
}

// ask sends a query for name over UDP, with EDNS, and returns the reply.
func (s *replayStack) ask(t *testing.T, name string, id uint16) *dns.Msg {
	t.Helper()
	q := newQuery(name, dns.TypeA, 1232)
	q.Id = id
	c := &dns.Client{Net: "udp", Timeout: testBound}
	reply, _, err := c.Exchange(q, s.l.Addr().String())
	if err != nil {
		t.Fatalf("ask %s: %v", name, err)
	}
	return reply
}

// TestReplay: a question answered once by the full path is answered
// again by the fast path, without the resolver: with the client's ID and
// case, and the TTL lowered by the time gone by. A flush, or the query
// log switched on, sends questions down the full path again.
func TestReplay(t *testing.T) {
	s := startReplayStack(t)
	first := s.ask(t, "www.example.com.", 1)
	if first.Rcode != dns.RcodeSuccess || len(first.Answer) != 1 {
		t.Fatalf("first reply: %v", first)
	}
	s.clock.Advance(7 * time.Second)
	second := s.ask(t, "WwW.eXaMpLe.CoM.", 2)
	if got := s.res.asked.Load(); got != 1 {
		t.Fatalf("the resolver was asked %d times, want once: the second query was not replayed", got)
	}
	if second.Id != 2 || second.Question[0].Name != "WwW.eXaMpLe.CoM." {
		t.Errorf("replayed reply: ID %d, question %q; want the query's ID 2 and case", second.Id, second.Question[0].Name)
	}
	if len(second.Answer) != 1 || second.Answer[0].Header().Ttl != 53 {
		t.Errorf("replayed answer %v, want one record with TTL 60-7=53", second.Answer)
	}
	if second.IsEdns0() == nil {
		t.Error("the replayed reply to an EDNS query has no OPT record")
	}
	if got := s.metrics.Snapshot(); got.Replayed != 1 || got.Total != 2 {
		t.Errorf("metrics: %d replayed of %d, want 1 of 2", got.Replayed, got.Total)
	}

	s.h.FlushAnswers()
	s.ask(t, "www.example.com.", 3)
	if got := s.res.asked.Load(); got != 2 {
		t.Errorf("after FlushAnswers the resolver was asked %d times in all, want 2", got)
	}

	s.qlog.SetEnabled(true)
	s.ask(t, "www.example.com.", 4)
	if got := s.res.asked.Load(); got != 3 {
		t.Errorf("with the query log on the resolver was asked %d times in all, want 3: every query is logged by the full path", got)
	}
}

// TestReplayExpires: past nine tenths of the TTL the full path answers
// again (and may prefetch).
func TestReplayExpires(t *testing.T) {
	s := startReplayStack(t)
	s.ask(t, "www.example.com.", 1)
	s.clock.Advance(55 * time.Second)
	s.ask(t, "www.example.com.", 2)
	if got := s.res.asked.Load(); got != 2 {
		t.Errorf("55 s into a 60 s TTL the resolver was asked %d times in all, want 2", got)
	}
}

// TestAnswerFastTurnsAway: a client outside the ACL, or over its rate,
// is never answered by the fast path: the full path turns it away and
// counts it.
func TestAnswerFastTurnsAway(t *testing.T) {
	s := startReplayStack(t)
	s.ask(t, "www.example.com.", 1) // kept for replay
	q := newQuery("www.example.com.", dns.TypeA, 1232)
	pkt, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, ednsBufferSize)
	if _, ok := s.h.answerFast(pkt, netip.MustParseAddrPort("127.0.0.1:40000"), out); !ok {
		t.Fatal("a loopback client was not answered by the fast path")
	}
	outside := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 7}), 40000) // only matched against the ACL
	if _, ok := s.h.answerFast(pkt, outside, out); ok {
		t.Error("a client outside the ACL was answered by the fast path")
	}
	if err := s.h.SetPolicy(Policy{ACL: loopbackACL, RateLimit: RateLimit{QPS: 1, Burst: 1}}); err != nil {
		t.Fatal(err)
	}
	client := netip.MustParseAddrPort("127.0.0.2:40000")
	if _, ok := s.h.answerFast(pkt, client, out); !ok {
		t.Fatal("the first query of a client within its rate was not answered by the fast path")
	}
	if _, ok := s.h.answerFast(pkt, client, out); ok {
		t.Error("a client over its rate was answered by the fast path")
	}
}
