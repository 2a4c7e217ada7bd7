package integration

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/cache/redis"
	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/internal/redistest"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/server"
)

// BenchmarkColdAnswer is the work of rootwalk's full path for a name it has
// never seen, with its zone's delegation cached, without the network: the
// handler parses nothing (miekg/dns has), checks, asks the resolver, which
// walks from the cached delegation, sends one query through an Exchanger
// that packs it and unpacks a packed reply, as the network would hand
// them over, scrubs and caches the reply; the handler packs the answer.
// The make bench cold scenario is this plus the system calls, which
// integration/bench/floor measures alone.
func BenchmarkColdAnswer(b *testing.B) { benchmarkColdAnswer(b, nil) }

// BenchmarkColdAnswerShared is BenchmarkColdAnswer with the fleet's shared
// cache in a real redis-server on loopback: each cold answer also costs
// one lookup in Redis (a miss) and one write, in the background. Against
// BenchmarkColdAnswer it is what the Redis tier adds to a walk.
func BenchmarkColdAnswerShared(b *testing.B) {
	srv := redistest.Start(b)
	tier, err := redis.New(redis.Options{Addr: srv.String(), Seed: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tier.Close() }) // benchmark
	benchmarkColdAnswer(b, tier)
	if s := tier.Stats(); s.Errors > 0 || s.Hits > 0 {
		b.Errorf("shared cache: %+v, want only misses", s)
	}
}

func benchmarkColdAnswer(b *testing.B, shared resolver.SharedCache) {
	authority := netip.MustParseAddr("127.53.9.1")
	exchange := resolver.ExchangerFunc(func(_ context.Context, q *dns.Msg, server netip.AddrPort, _ time.Duration) (resolver.Response, error) {
		if _, err := q.Pack(); err != nil {
			return resolver.Response{}, err
		}
		reply := new(dns.Msg)
		reply.SetReply(q)
		name := q.Question[0].Name
		switch {
		case server.Addr() != authority:
			// The root: a referral to example.com's server.
			reply.Ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 86400}, Ns: "ns.example.com."}}
			reply.Extra = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "ns.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 86400}, A: authority.AsSlice()}}
		case q.Question[0].Qtype == dns.TypeA:
			reply.Authoritative = true
			reply.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: net.IPv4(192, 0, 2, 99)}}
		default:
			reply.Authoritative = true
			reply.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
				Ns: "ns.example.com.", Mbox: "admin.example.com.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 300}}
		}
		wire, err := reply.Pack()
		if err != nil {
			return resolver.Response{}, err
		}
		got := new(dns.Msg)
		if err := got.Unpack(wire); err != nil {
			return resolver.Response{}, err
		}
		return resolver.Response{Msg: got, RTT: 100 * time.Microsecond}, nil
	})
	c, err := cache.New(cache.Options{MaxEntries: 4_000_000, MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	res, err := resolver.New(resolver.Options{
		Hints:        resolver.Hints{{Name: "a.root-servers.net.", Addrs: []netip.Addr{netip.MustParseAddr("127.53.0.1")}}},
		UpstreamPort: 53,
		Cache:        c,
		Exchanger:    exchange,
		MaxServerQPS: -1,
		Shared:       shared,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(res.Close)
	h, err := server.NewHandler(server.HandlerOptions{
		Resolver: res,
		ACL:      server.ACL{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ask := func(name string) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		w := dnstest.NewRecorder("udp", netip.MustParseAddr("127.0.0.1"))
		h.ServeDNS(w, q)
		return w.Reply()
	}
	if r := ask("warm.example.com."); r == nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		b.Fatalf("first answer: %v", r)
	}
	names := make([]string, 0, 1<<16)
	for i := range cap(names) {
		names = append(names, "k"+strconv.Itoa(i)+".wild.example.com.")
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Past the prepared names, the same names get new suffixes, so
		// each stays cold.
		name := names[i%len(names)]
		if i >= len(names) {
			name = strconv.Itoa(i/len(names)) + name
		}
		i++
		if r := ask(name); r == nil || len(r.Answer) != 1 {
			b.Fatal(errors.New("no answer"), name, r)
		}
	}
}

// BenchmarkColdAnswerMessages is the part of a cold answer that miekg/dns
// does and no resolver built on it can avoid: unpack the client's query,
// pack one query to the authority (EDNS with a cookie), unpack its reply
// (one A record, EDNS with a cookie) and pack the client's answer. Against
// BenchmarkColdAnswer it shows how much of the cold path is the library's
// and how much is rootwalk's own.
func BenchmarkColdAnswerMessages(b *testing.B) {
	query := new(dns.Msg)
	query.SetQuestion("k1.wild.example.com.", dns.TypeA)
	query.SetEdns0(1232, false)
	clientWire, err := query.Pack()
	if err != nil {
		b.Fatal(err)
	}
	reply := new(dns.Msg)
	reply.SetReply(query)
	reply.Authoritative = true
	reply.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "k1.wild.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: net.IPv4(192, 0, 2, 99)}}
	reply.Extra = []dns.RR{withCookie("238a2d981d016e70010000006b097b337b1bc980eda8585f")}
	authorityWire, err := reply.Pack()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, dns.MaxMsgSize)
	b.ReportAllocs()
	for b.Loop() {
		in := new(dns.Msg)
		if err := in.Unpack(clientWire); err != nil {
			b.Fatal(err)
		}
		up := new(dns.Msg)
		up.SetQuestion(in.Question[0].Name, in.Question[0].Qtype)
		up.RecursionDesired = false
		up.Extra = []dns.RR{withCookie("238a2d981d016e70")}
		if _, err := up.PackBuffer(buf); err != nil {
			b.Fatal(err)
		}
		got := new(dns.Msg)
		if err := got.Unpack(authorityWire); err != nil {
			b.Fatal(err)
		}
		out := new(dns.Msg)
		out.SetReply(in)
		out.RecursionAvailable = true
		out.Answer = got.Answer
		out.SetEdns0(1232, false)
		if _, err := out.PackBuffer(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// withCookie is an OPT record for 1232-byte UDP carrying one cookie option.
func withCookie(cookie string) *dns.OPT {
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(1232)
	opt.Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie}}
	return opt
}
