package integration

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
)

// poisonQuestion is a question and its right answer, as checkCase reads it.
type poisonQuestion struct {
	qname  string
	qtype  uint16
	rcode  int
	answer []string // with TTLs, checked exactly
	soa    string   // the owner of a negative answer's SOA
}

// poisonCase is an attack by one of the lab's attacker servers.
type poisonCase struct {
	name     string
	attacker string           // the attacker's server address
	ask      []poisonQuestion // questions that reach the attacker
	// bogus are the records the attacker plants, as "name type rdata"
	// (dnstest.Set's form): none may show up in an answer or the cache.
	bogus []string
	// after are questions about the names the attacker tried to hijack,
	// asked once it has spoken: the right answers come from the right
	// servers, and not one query goes to the attacker.
	after []poisonQuestion
}

var poisonCases = []poisonCase{
	{
		name:     "out-of-bailiwick records: an address where the CNAME leads, NS and glue for example.com",
		attacker: "127.53.2.37",
		ask: []poisonQuestion{
			{qname: "www.poison-oob.org.", qtype: dns.TypeA, answer: []string{
				"www.poison-oob.org. 3600 IN CNAME www.example.com.", "www.example.com. 3600 IN A 192.0.2.10"}},
			{qname: "www.poison-oob.org.", qtype: dns.TypeAAAA, answer: []string{
				"www.poison-oob.org. 3600 IN CNAME www.example.com.", "www.example.com. 3600 IN AAAA 2001:db8::10"}},
			{qname: "nope.poison-oob.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: "poison-oob.org."},
		},
		bogus: []string{
			"www.example.com. a 192.0.2.66",
			"www.example.com. aaaa 2001:db8::66",
			"example.com. ns ns1.poison-oob.org.",
			"ns1.example.com. a 127.53.2.37",
		},
		after: []poisonQuestion{
			{qname: "www.example.com.", qtype: dns.TypeA, answer: []string{"www.example.com. 3600 IN A 192.0.2.10"}},
			{qname: "example.com.", qtype: dns.TypeNS, answer: []string{
				"example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.com."}},
			{qname: "ns1.example.com.", qtype: dns.TypeA, answer: []string{"ns1.example.com. 3600 IN A 127.53.2.1"}},
			{qname: "mail.example.com.", qtype: dns.TypeA, answer: []string{"mail.example.com. 3600 IN A 192.0.2.25"}},
		},
	},
	{
		name:     "records for the parent zone: a DNAME for org. and org. NS naming the attacker",
		attacker: "127.53.2.38",
		ask: []poisonQuestion{
			{qname: "www.poison-parent.org.", qtype: dns.TypeA, answer: []string{"www.poison-parent.org. 3600 IN A 192.0.2.88"}},
			{qname: "nope.poison-parent.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: "poison-parent.org."},
			{qname: "poison-parent.org.", qtype: dns.TypeNS, answer: []string{"poison-parent.org. 3600 IN NS ns1.poison-parent.org."}},
		},
		bogus: []string{
			"org. dname poison-parent.org.",
			"org. ns ns1.poison-parent.org.",
			"www.poison-parent.org. cname www.poison-parent.poison-parent.org.",
		},
		after: []poisonQuestion{
			{qname: "www.victim.org.", qtype: dns.TypeA, answer: []string{"www.victim.org. 3600 IN A 192.0.2.78"}},
			{qname: "org.", qtype: dns.TypeNS, answer: []string{"org. 86400 IN NS ns1.nic.org.", "org. 86400 IN NS ns2.nic.org."}},
			{qname: "ns1.nic.org.", qtype: dns.TypeA, answer: []string{"ns1.nic.org. 86400 IN A 127.53.1.3"}},
		},
	},
	{
		name:     "a forged reply from another address ahead of the real one",
		attacker: "127.53.2.40",
		ask: []poisonQuestion{
			{qname: "www.poison-race.org.", qtype: dns.TypeA, answer: []string{"www.poison-race.org. 3600 IN A 192.0.2.91"}},
			{qname: "www.poison-race.org.", qtype: dns.TypeAAAA, soa: "poison-race.org."},
			{qname: "poison-race.org.", qtype: dns.TypeA, soa: "poison-race.org."},
		},
		bogus: []string{
			"www.poison-race.org. a 192.0.2.66",
			"www.poison-race.org. aaaa 2001:db8::66",
			"poison-race.org. a 192.0.2.66",
		},
	},
	{
		name:     "huge TTLs: 2^31-1 and 2^32-1, kept one day at most",
		attacker: "127.53.2.39",
		ask: []poisonQuestion{
			{qname: "www.poison-ttl.org.", qtype: dns.TypeA, answer: []string{"www.poison-ttl.org. 86400 IN A 192.0.2.89"}},
			{qname: "max.poison-ttl.org.", qtype: dns.TypeA, answer: []string{"max.poison-ttl.org. 86400 IN A 192.0.2.90"}},
			{qname: "poison-ttl.org.", qtype: dns.TypeNS, answer: []string{"poison-ttl.org. 86400 IN NS ns1.poison-ttl.org."}},
		},
	},
}

// TestCachePoisoning lets each of the lab's attackers answer rootwalk,
// then checks that nothing it planted reached a client or the cache,
// and that the names it tried to hijack still resolve through their own
// servers. Each attack has a lab and a rootwalk of its own.
func TestCachePoisoning(t *testing.T) {
	for _, c := range poisonCases {
		t.Run(c.name, func(t *testing.T) {
			s := startStack(t, startLab(t, 0))
			bogus := make(map[string]bool, len(c.bogus))
			for _, b := range c.bogus {
				bogus[strings.ToLower(b)] = true
			}
			attacker := netip.MustParseAddr(c.attacker)
			for _, q := range c.ask {
				reply := askFull(t, s.addr, q.qname, q.qtype)
				checkPoisonReply(t, q, reply, bogus)
			}
			if s.lab.QueriesTo(attacker) == 0 {
				t.Fatalf("the attacker %s was never asked", c.attacker)
			}
			checkCacheClean(t, s, bogus)

			before := s.lab.QueriesTo(attacker)
			for _, q := range c.after {
				reply := askFull(t, s.addr, q.qname, q.qtype)
				checkPoisonReply(t, q, reply, bogus)
			}
			if n := s.lab.QueriesTo(attacker) - before; n != 0 {
				t.Errorf("%d queries went to the attacker %s for the names it tried to hijack", n, c.attacker)
			}
			checkCacheClean(t, s, bogus)
		})
	}
}

// checkPoisonReply checks a reply against q and finds none of the bogus
// records in any of its sections.
func checkPoisonReply(t *testing.T, q poisonQuestion, reply *dns.Msg, bogus map[string]bool) {
	t.Helper()
	checkCase(t, labCase{qname: q.qname, qtype: q.qtype, rcode: q.rcode, answer: q.answer, soa: q.soa}, reply, true)
	for _, section := range [][]dns.RR{reply.Answer, reply.Ns, reply.Extra} {
		for _, rr := range dnstest.Set(section) {
			if bogus[rr] {
				t.Errorf("%s %s: the reply carries the attacker's %q", q.qname, dns.TypeToString[q.qtype], rr)
			}
		}
	}
}

// checkCacheClean reads every entry of s's cache: none may hold a bogus
// record or be kept longer than the cache's maximum TTL.
func checkCacheClean(t *testing.T, s *stack, bogus map[string]bool) {
	t.Helper()
	entries := s.cache.Entries(cache.Filter{}, s.clock.Now())
	if len(entries) == 0 {
		t.Fatal("the cache is empty")
	}
	for _, e := range entries {
		if time.Duration(e.OrigTTL)*time.Second > cache.DefaultMaxTTL {
			t.Errorf("%s %s %s kept for %d s, more than the cache's maximum %v", e.Kind, e.Name, e.Type, e.OrigTTL, cache.DefaultMaxTTL)
		}
		for _, text := range e.Records {
			rr, err := dns.NewRR(text)
			if err != nil || rr == nil {
				t.Errorf("%s %s %s: record %q does not parse: %v", e.Kind, e.Name, e.Type, text, err)
				continue
			}
			if set := dnstest.Set([]dns.RR{rr}); bogus[set[0]] {
				t.Errorf("the cache holds the attacker's %q in its %s entry for %s %s", set[0], e.Kind, e.Name, e.Type)
			}
		}
	}
}

// TestHugeTTLCapped: records with TTLs of 2^31-1 and 2^32-1 are served
// with the cache's maximum of one day and expire after it, when the
// attacker's server is asked again.
func TestHugeTTLCapped(t *testing.T) {
	// Without prefetch, which would ask the server in the TTL's last tenth.
	s := startStack(t, startLab(t, 0), func(o *resolver.Options) { o.Prefetch = false })
	server := netip.MustParseAddr("127.53.2.39")
	for _, name := range []string{"www.poison-ttl.org.", "max.poison-ttl.org."} {
		t.Run(name, func(t *testing.T) {
			first := askFull(t, s.addr, name, dns.TypeA)
			if len(first.Answer) != 1 || first.Answer[0].Header().Ttl != uint32(cache.DefaultMaxTTL/time.Second) {
				t.Fatalf("answer %v, want one record with TTL %d", first.Answer, cache.DefaultMaxTTL/time.Second)
			}
			entries := s.cache.Entries(cache.Filter{Name: name, Type: dns.TypeA, Kind: "answer"}, s.clock.Now())
			if len(entries) != 1 || time.Duration(entries[0].OrigTTL)*time.Second != cache.DefaultMaxTTL {
				t.Fatalf("cache entries %+v, want one answer stored for %v", entries, cache.DefaultMaxTTL)
			}
			before := s.lab.QueriesTo(server)
			s.clock.Advance(cache.DefaultMaxTTL - time.Second)
			if r := askFull(t, s.addr, name, dns.TypeA); s.lab.QueriesTo(server) != before || len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 1 {
				t.Errorf("a second before a day: answer %v, %d queries to the server; want TTL 1 from the cache",
					r.Answer, s.lab.QueriesTo(server)-before)
			}
			s.clock.Advance(time.Second)
			r := askFull(t, s.addr, name, dns.TypeA)
			if s.lab.QueriesTo(server) == before {
				t.Errorf("after a day the answer still came from the cache: %v", r.Answer)
			}
			if len(r.Answer) != 1 || r.Answer[0].Header().Ttl != uint32(cache.DefaultMaxTTL/time.Second) {
				t.Errorf("answer after a day %v, want the fresh record with TTL %d", r.Answer, cache.DefaultMaxTTL/time.Second)
			}
		})
	}
}
