package packet

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// hitSetup returns a Store holding the reply to "www.example.com. A" with
// EDNS 1232, a client's datagram for it, and a time 7 s after the Put.
func hitSetup(tb testing.TB) (*Store, []byte, time.Time) {
	tb.Helper()
	s := mustStore(tb, Options{})
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{rd: true, edns: true, udpSize: 1232})
	reply := replyTo(query, dns.RcodeSuccess, rrs(tb, "www.example.com. 300 IN A 192.0.2.1"), nil, nil)
	s.Put(parse(tb, pack(tb, query)), pack(tb, reply), t0)
	client := newQuery("wWw.ExAmple.cOm.", dns.TypeA, queryOpts{id: 0x4242, rd: true, edns: true, udpSize: 1232})
	return s, pack(tb, client), t0.Add(7 * time.Second)
}

// hit is the whole hit path: parse the datagram, answer into out.
func hit(s *Store, pkt []byte, now time.Time, q *Query, out []byte) bool {
	if !ParseQuery(pkt, q) {
		return false
	}
	_, ok := s.Answer(q, pkt, now, out)
	return ok
}

func TestHitDoesNotAllocate(t *testing.T) {
	s, pkt, now := hitSetup(t)
	var q Query
	out := make([]byte, maxUDPReply)
	if !hit(s, pkt, now, &q, out) {
		t.Fatal("miss")
	}
	if n := testing.AllocsPerRun(1000, func() { hit(s, pkt, now, &q, out) }); n != 0 {
		t.Errorf("ParseQuery and Answer allocate %v times per hit, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.Answer(&Query{Name: []byte("\x01x\x00")}, pkt, now, out) }); n != 0 {
		t.Errorf("a miss allocates %v times, want 0", n)
	}
}

// BenchmarkHit measures the whole cache-hit path: ParseQuery on a typical
// query's datagram, then Store.Answer into a reused 1232-byte buffer.
func BenchmarkHit(b *testing.B) {
	s, pkt, now := hitSetup(b)
	var q Query
	out := make([]byte, maxUDPReply)
	b.ReportAllocs()
	for b.Loop() {
		if !hit(s, pkt, now, &q, out) {
			b.Fatal("miss")
		}
	}
}

// BenchmarkHitParallel is BenchmarkHit from GOMAXPROCS goroutines, all
// asking the same name: the worst case for a shard's lock.
func BenchmarkHitParallel(b *testing.B) {
	s, pkt, now := hitSetup(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var q Query
		out := make([]byte, maxUDPReply)
		for pb.Next() {
			if !hit(s, pkt, now, &q, out) {
				b.Error("miss")
				return
			}
		}
	})
}

// BenchmarkParseQuery is ParseQuery alone on the same datagram.
func BenchmarkParseQuery(b *testing.B) {
	_, pkt, _ := hitSetup(b)
	var q Query
	b.ReportAllocs()
	for b.Loop() {
		if !ParseQuery(pkt, &q) {
			b.Fatal("not plain")
		}
	}
}

// BenchmarkPut measures storing a typical reply, re-packing included.
func BenchmarkPut(b *testing.B) {
	s := mustStore(b, Options{})
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{rd: true, edns: true, udpSize: 1232})
	q := parse(b, pack(b, query))
	reply := pack(b, replyTo(query, dns.RcodeSuccess, rrs(b, "www.example.com. 300 IN A 192.0.2.1"), nil, nil))
	b.ReportAllocs()
	for b.Loop() {
		s.Put(q, reply, t0)
	}
}
