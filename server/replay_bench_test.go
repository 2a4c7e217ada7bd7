package server

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// hitPath sets up a handler whose fast path holds the reply to
// www.example.com. A, and returns it with the query's datagram.
func hitPath(tb testing.TB) (*Handler, []byte) {
	tb.Helper()
	res := &cachedAnswerer{rr: dnstest.RRs(tb, "www.example.com. 3600 IN A 192.0.2.1")}
	h, err := NewHandler(HandlerOptions{Resolver: res, ACL: loopbackACL, Metrics: NewMetrics()})
	if err != nil {
		tb.Fatal(err)
	}
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), h, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Shutdown(context.Background()) }) // a benchmark's set-up: nothing to check
	q := newQuery("www.example.com.", dns.TypeA, 1232)
	// The full path answers once and keeps the reply.
	c := &dns.Client{Net: "udp", Timeout: testBound}
	if _, _, err := c.Exchange(q, l.Addr().String()); err != nil {
		tb.Fatal(err)
	}
	pkt, err := q.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	return h, pkt
}

// BenchmarkAnswerFast is the whole cache-hit path of a UDP query but the
// system calls: the datagram in, parsed, looked up, patched and written
// into the reply buffer, counted in the metrics.
func BenchmarkAnswerFast(b *testing.B) {
	h, pkt := hitPath(b)
	client := netip.MustParseAddrPort("127.0.0.1:40000")
	out := make([]byte, ednsBufferSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := h.answerFast(pkt, client, out); !ok {
			b.Fatal("not answered by the fast path")
		}
	}
}

// BenchmarkAnswerFastParallel is BenchmarkAnswerFast on every core.
func BenchmarkAnswerFastParallel(b *testing.B) {
	h, pkt := hitPath(b)
	client := netip.MustParseAddrPort("127.0.0.1:40000")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, ednsBufferSize)
		for pb.Next() {
			if _, ok := h.answerFast(pkt, client, out); !ok {
				b.Error("not answered by the fast path")
				return
			}
		}
	})
}
