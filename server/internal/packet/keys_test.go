package packet

import (
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// keyVariant is one query of a family that must not share entries.
type keyVariant struct {
	name   string
	qtype  uint16
	opts   queryOpts
	answer string
}

func TestKeySeparation(t *testing.T) {
	variants := []keyVariant{
		{"EDNS", dns.TypeA, queryOpts{edns: true, udpSize: 1232}, "192.0.2.1"},
		{"EDNS DO", dns.TypeA, queryOpts{edns: true, do: true, udpSize: 1232}, "192.0.2.2"},
		{"EDNS CD", dns.TypeA, queryOpts{edns: true, cd: true, udpSize: 1232}, "192.0.2.3"},
		{"EDNS DO CD", dns.TypeA, queryOpts{edns: true, do: true, cd: true, udpSize: 1232}, "192.0.2.4"},
		{"no EDNS", dns.TypeA, queryOpts{}, "192.0.2.5"},
		{"no EDNS CD", dns.TypeA, queryOpts{cd: true}, "192.0.2.6"},
		{"AAAA", dns.TypeAAAA, queryOpts{edns: true, udpSize: 1232}, "2001:db8::1"},
		{"class CH", dns.TypeA, queryOpts{edns: true, udpSize: 1232, qclass: dns.ClassCHAOS}, "192.0.2.8"},
	}
	reply := func(t *testing.T, v keyVariant, query *dns.Msg) []byte {
		rrType := "A"
		if v.qtype == dns.TypeAAAA {
			rrType = "AAAA"
		}
		rr := rrs(t, "www.example.com. 300 IN "+rrType+" "+v.answer)
		rr[0].Header().Class = query.Question[0].Qclass
		return pack(t, replyTo(query, dns.RcodeSuccess, rr, nil, nil))
	}
	out := make([]byte, maxUDPReply)

	// Each variant alone: every other one misses.
	for _, stored := range variants {
		s := mustStore(t, Options{})
		query := newQuery("www.example.com.", stored.qtype, stored.opts)
		s.Put(parse(t, pack(t, query)), reply(t, stored, query), t0)
		for _, asked := range variants {
			pkt := pack(t, newQuery("www.example.com.", asked.qtype, asked.opts))
			_, ok := s.Answer(parse(t, pkt), pkt, t0, out)
			if ok != (asked.name == stored.name) {
				t.Errorf("stored %q, asked %q: hit %v", stored.name, asked.name, ok)
			}
		}
	}

	// All variants together: each gets its own reply.
	s := mustStore(t, Options{})
	for _, v := range variants {
		query := newQuery("www.example.com.", v.qtype, v.opts)
		s.Put(parse(t, pack(t, query)), reply(t, v, query), t0)
	}
	if s.Len() != len(variants) {
		t.Errorf("Len %d, want %d", s.Len(), len(variants))
	}
	for _, v := range variants {
		pkt := pack(t, newQuery("WWW.example.COM.", v.qtype, v.opts))
		n, ok := s.Answer(parse(t, pkt), pkt, t0, out)
		if !ok {
			t.Errorf("%s: miss", v.name)
			continue
		}
		got := unpack(t, out[:n])
		var addr string
		switch rr := got.Answer[0].(type) {
		case *dns.A:
			addr = rr.A.String()
		case *dns.AAAA:
			addr = rr.AAAA.String()
		}
		if addr != v.answer {
			t.Errorf("%s: answer %v, want %s", v.name, got.Answer, v.answer)
		}
	}
}

// Different names, even of the same hash, never answer each other: the
// stored key is compared on every hit.
func TestKeyComparedOnHit(t *testing.T) {
	s := mustStore(t, Options{})
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{})
	q := parse(t, pack(t, query))
	s.Put(q, pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 300 IN A 192.0.2.1"), nil, nil)), t0)

	// Forge a collision: store the entry under the hash of another name.
	other := pack(t, newQuery("www.example.net.", dns.TypeA, queryOpts{}))
	oq := parse(t, other)
	var kb [maxKeyLen]byte
	k, _ := makeKey(&kb, oq)
	e, err := newEntry(q, pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 300 IN A 192.0.2.1"), nil, nil)), t0)
	if err != nil {
		t.Fatal(err)
	}
	e.hash = s.hash(kb[:k])
	s.shards[e.hash&s.mask].put(e, t0)
	if _, ok := s.Answer(oq, other, t0, make([]byte, maxUDPReply)); ok {
		t.Error("www.example.net. answered with www.example.com.'s reply")
	}
}

// The client's buffer bounds what it is sent: a reply longer than it
// takes is a miss, for the full path to truncate.
func TestAnswerTooLongForClient(t *testing.T) {
	var answer []string
	for i := range 40 { // about 700 bytes
		answer = append(answer, "www.example.com. 300 IN A 192.0.2."+strconv.Itoa(i+1))
	}
	for _, tt := range []struct {
		name    string
		stored  queryOpts
		asked   queryOpts
		outSize int
		hit     bool
	}{
		{"no EDNS", queryOpts{}, queryOpts{}, maxUDPReply, false},
		{"EDNS 512", queryOpts{edns: true, udpSize: 1232}, queryOpts{edns: true, udpSize: 512}, maxUDPReply, false},
		{"EDNS 100 counts as 512", queryOpts{edns: true, udpSize: 1232}, queryOpts{edns: true, udpSize: 100}, maxUDPReply, false},
		{"EDNS 1232", queryOpts{edns: true, udpSize: 512}, queryOpts{edns: true, udpSize: 1232}, maxUDPReply, true},
		{"EDNS 4096", queryOpts{edns: true, udpSize: 4096}, queryOpts{edns: true, udpSize: 4096}, maxUDPReply, true},
		{"out too short", queryOpts{edns: true, udpSize: 4096}, queryOpts{edns: true, udpSize: 4096}, 600, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStore(t, Options{})
			query := newQuery("www.example.com.", dns.TypeA, tt.stored)
			reply := pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, answer...), nil, nil))
			if len(reply) <= 600 {
				t.Fatalf("reply of %d bytes, want more than 600", len(reply))
			}
			s.Put(parse(t, pack(t, query)), reply, t0)
			pkt := pack(t, newQuery("www.example.com.", dns.TypeA, tt.asked))
			n, ok := s.Answer(parse(t, pkt), pkt, t0, make([]byte, tt.outSize))
			if ok != tt.hit || (ok && n != len(reply)) {
				t.Errorf("Answer = %d, %v; want hit %v with %d bytes", n, ok, tt.hit, len(reply))
			}
		})
	}
}

// Answer copies the question from pkt only if it is q's: a pkt that does
// not hold q's name is a miss, never a corrupt reply.
func TestAnswerPacketMismatch(t *testing.T) {
	s := mustStore(t, Options{})
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{})
	pkt := pack(t, query)
	q := parse(t, pkt)
	s.Put(q, pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 300 IN A 192.0.2.1"), nil, nil)), t0)
	out := make([]byte, maxUDPReply)
	for _, other := range [][]byte{nil, pkt[:20], pack(t, newQuery("www.example.net.", dns.TypeA, queryOpts{}))} {
		if _, ok := s.Answer(q, other, t0, out); ok {
			t.Errorf("Answer with packet % x: hit, want miss", other)
		}
	}
	if _, ok := s.Answer(&Query{}, pkt, t0, out); ok {
		t.Error("Answer with an empty Query: hit, want miss")
	}
}
