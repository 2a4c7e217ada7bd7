package integration

import (
	"github.com/miekg/dns"
)

// labCase is one question about the lab and what a correct resolver
// answers. Records are zone-format strings; TTLs are the lab's.
type labCase struct {
	name   string // what the case shows
	qname  string
	qtype  uint16
	rcode  int
	answer []string
	// soa is the owner of the SOA a negative answer must carry in its
	// authority section, or "" when none is expected.
	soa string
	// notUnbound leaves the case out of the differential test, for the
	// reason given.
	notUnbound string
}

const (
	soaExampleCom = "example.com."
	soaExampleOrg = "example.org."
)

// labCases covers every special case of the lab (DESIGN.md, "The lab").
var labCases = []labCase{
	// Walks with in-bailiwick glue, and the record types.
	{name: "A with in-bailiwick glue", qname: "www.example.com.", qtype: dns.TypeA,
		answer: []string{"www.example.com. 3600 IN A 192.0.2.10"}},
	{name: "AAAA", qname: "www.example.com.", qtype: dns.TypeAAAA,
		answer: []string{"www.example.com. 3600 IN AAAA 2001:db8::10"}},
	{name: "MX", qname: "example.com.", qtype: dns.TypeMX,
		answer: []string{"example.com. 3600 IN MX 10 mail.example.com."}},
	{name: "TXT", qname: "example.com.", qtype: dns.TypeTXT,
		answer: []string{`example.com. 3600 IN TXT "v=spf1 -all"`}},
	{name: "CAA", qname: "example.com.", qtype: dns.TypeCAA,
		answer: []string{`example.com. 3600 IN CAA 0 issue "ca.example.net"`}},
	{name: "SRV", qname: "_sip._tcp.example.com.", qtype: dns.TypeSRV,
		answer: []string{"_sip._tcp.example.com. 3600 IN SRV 10 60 5060 sip.example.com."}},
	{name: "SOA", qname: "example.com.", qtype: dns.TypeSOA,
		answer: []string{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2026112701 7200 3600 1209600 300"}},
	{name: "NS from the child, not the referral", qname: "example.com.", qtype: dns.TypeNS,
		answer: []string{"example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.com."}},
	{name: "root NS, TTL capped at one day", qname: ".", qtype: dns.TypeNS, // the lab says 518400
		answer: []string{". 86400 IN NS a.root-servers.net.", ". 86400 IN NS b.root-servers.net."}},
	{name: "PTR behind a glueless delegation from arpa", qname: "1.0.53.127.in-addr.arpa.", qtype: dns.TypePTR,
		answer: []string{"1.0.53.127.in-addr.arpa. 3600 IN PTR a.root-servers.net."}},
	{name: "zone three cuts below the root", qname: "host.sub.example.com.", qtype: dns.TypeA,
		answer: []string{"host.sub.example.com. 3600 IN A 192.0.2.30"}},
	{name: "NS of a zone below a second-level domain", qname: "sub.example.com.", qtype: dns.TypeNS,
		answer: []string{"sub.example.com. 3600 IN NS ns1.sub.example.com."}},

	// Glueless delegation into another TLD.
	{name: "glueless delegation (NS in another TLD)", qname: "www.example.net.", qtype: dns.TypeA,
		answer: []string{"www.example.net. 3600 IN A 192.0.2.40"}},

	// CNAME and DNAME.
	{name: "CNAME chain across three zones", qname: "alias.example.com.", qtype: dns.TypeA,
		answer: []string{
			"alias.example.com. 3600 IN CNAME www.example.org.",
			"www.example.org. 3600 IN CNAME edge.cdnprovider.net.",
			"edge.cdnprovider.net. 20 IN A 192.0.2.80",
		}},
	{name: "CNAME to a short-TTL AAAA", qname: "www.example.org.", qtype: dns.TypeAAAA,
		answer: []string{
			"www.example.org. 3600 IN CNAME edge.cdnprovider.net.",
			"edge.cdnprovider.net. 20 IN AAAA 2001:db8::80",
		}},
	{name: "DNAME", qname: "www.legacy.example.org.", qtype: dns.TypeA,
		answer: []string{
			"legacy.example.org. 3600 IN DNAME example.com.",
			"www.legacy.example.org. 3600 IN CNAME www.example.com.",
			"www.example.com. 3600 IN A 192.0.2.10",
		}},
	{name: "CNAME to a name that does not exist", qname: "dangling.example.com.", qtype: dns.TypeA,
		rcode:  dns.RcodeNameError,
		answer: []string{"dangling.example.com. 3600 IN CNAME nothing.example.org."},
		soa:    soaExampleOrg},
	{name: "CNAME loop across zones", qname: "loop.example.com.", qtype: dns.TypeA,
		rcode: dns.RcodeServerFailure},

	// Negative answers.
	{name: "NXDOMAIN with SOA", qname: "nope.example.com.", qtype: dns.TypeA,
		rcode: dns.RcodeNameError, soa: soaExampleCom},
	{name: "NODATA with SOA", qname: "ipv4only.example.com.", qtype: dns.TypeAAAA,
		soa: soaExampleCom},
	{name: "NXDOMAIN for a TLD that does not exist", qname: "www.example.notatld.", qtype: dns.TypeA,
		rcode: dns.RcodeNameError, soa: "."},
	{name: "empty non-terminal is NODATA", qname: "in-addr.arpa.", qtype: dns.TypeA,
		soa: "arpa."},

	// Wildcard.
	{name: "wildcard A", qname: "anything.wild.example.com.", qtype: dns.TypeA,
		answer: []string{"anything.wild.example.com. 3600 IN A 192.0.2.99"}},
	{name: "wildcard TXT", qname: "Other.Wild.Example.Com.", qtype: dns.TypeTXT,
		answer: []string{`other.wild.example.com. 3600 IN TXT "wildcard"`}},
	{name: "wildcard NODATA", qname: "anything.wild.example.com.", qtype: dns.TypeMX,
		soa: soaExampleCom},

	// Size and TTL.
	{name: "answer too large for UDP (TC, then TCP upstream)", qname: "big.example.com.", qtype: dns.TypeTXT,
		answer: bigTXT()},
	{name: "short TTL", qname: "short.example.com.", qtype: dns.TypeA,
		answer: []string{"short.example.com. 5 IN A 192.0.2.5"}},

	// Broken delegations.
	{name: "lame server (REFUSED) beside a good one", qname: "www.partly-lame.com.", qtype: dns.TypeA,
		answer: []string{"www.partly-lame.com. 3600 IN A 192.0.2.50"}},
	{name: "server that never answers beside a good one", qname: "www.partly-dead.com.", qtype: dns.TypeA,
		answer: []string{"www.partly-dead.com. 3600 IN A 192.0.2.51"}},
	{name: "every server lame", qname: "www.lame.com.", qtype: dns.TypeA,
		rcode: dns.RcodeServerFailure},
	{name: "every server silent", qname: "www.dead.com.", qtype: dns.TypeA,
		rcode:      dns.RcodeServerFailure,
		notUnbound: "Unbound keeps retrying a silent server past its own discard timeout and never answers"},
	{name: "glueless delegations that need each other", qname: "www.cycle-a.com.", qtype: dns.TypeA,
		rcode: dns.RcodeServerFailure},

	// Servers that misbehave (zones/fault.go), and names for the
	// resolver's harder paths.
	{name: "a fast and a slow server", qname: "www.fast-slow.com.", qtype: dns.TypeA,
		answer: []string{"www.fast-slow.com. 3600 IN A 192.0.2.70"}},
	{name: "server that does not echo the 0x20 case", qname: "www.nocase.net.", qtype: dns.TypeA,
		answer: []string{"www.nocase.net. 3600 IN A 192.0.2.71"}},
	{name: "server that answers FORMERR to EDNS", qname: "www.edns-formerr.org.", qtype: dns.TypeA,
		answer: []string{"www.edns-formerr.org. 3600 IN A 192.0.2.72"}},
	{name: "server that drops EDNS queries", qname: "www.edns-drop.org.", qtype: dns.TypeA,
		answer:     []string{"www.edns-drop.org. 3600 IN A 192.0.2.73"},
		notUnbound: "DNS Flag Day 2019: Unbound no longer retries without EDNS after a timeout, so it answers SERVFAIL; rootwalk makes one plain round when every server of a zone was silent (RFC 6891 section 7)"},
	{name: "upward referral beside a good server", qname: "www.upward.com.", qtype: dns.TypeA,
		answer: []string{"www.upward.com. 3600 IN A 192.0.2.74"}},
	{name: "non-authoritative server beside a good one", qname: "www.noaa.com.", qtype: dns.TypeA,
		answer:     []string{"www.noaa.com. 3600 IN A 192.0.2.75"},
		notUnbound: "Unbound 1.17, when it asks ns1.noaa.com first, takes its empty non-authoritative NOERROR for NODATA; the server is lame for the zone delegated to it (RFC 1034 section 4.3.2 step 3: only the zone's authority may answer; RFC 2308 section 2.2), so rootwalk asks ns2"},
	{name: "server that says NXDOMAIN for empty non-terminals", qname: "a.b.c.brokenent.net.", qtype: dns.TypeA,
		answer: []string{"a.b.c.brokenent.net. 3600 IN A 192.0.2.76"}},
	{name: "NXNS: twenty glueless servers that do not exist", qname: "www.nxns.com.", qtype: dns.TypeA,
		rcode: dns.RcodeServerFailure},
	{name: "a name under six empty non-terminals", qname: "a.b.c.d.e.f.g.example.org.", qtype: dns.TypeA,
		answer: []string{"a.b.c.d.e.f.g.example.org. 3600 IN A 192.0.2.79"}},
	{name: "an empty non-terminal inside a zone", qname: "d.e.f.g.example.org.", qtype: dns.TypeA,
		soa: soaExampleOrg},
	{name: "a server with an unreachable IPv6 address", qname: "www.v6broken.com.", qtype: dns.TypeA,
		answer: []string{"www.v6broken.com. 3600 IN A 192.0.2.80"}},

	// Fault tolerance: servers that lose UDP queries, reset TCP or garble
	// their replies, beside a good server and alone (faults_test.go).
	{name: "a lossy server beside a good one", qname: "www.lossy.com.", qtype: dns.TypeA,
		answer: []string{"www.lossy.com. 3600 IN A 192.0.2.81"}},
	{name: "only a lossy server, which answers every second query", qname: "www.lossy-only.com.", qtype: dns.TypeA,
		answer: []string{"www.lossy-only.com. 3600 IN A 192.0.2.82"}},
	{name: "a server that resets TCP beside a good one", qname: "www.tcp-reset.com.", qtype: dns.TypeA,
		answer: []string{"www.tcp-reset.com. 3600 IN A 192.0.2.83"}},
	{name: "only a server that resets TCP", qname: "www.tcp-reset-only.com.", qtype: dns.TypeA,
		rcode: dns.RcodeServerFailure},
	{name: "a garbling server beside a good one", qname: "www.garbage.com.", qtype: dns.TypeA,
		answer: []string{"www.garbage.com. 3600 IN A 192.0.2.85"}},
	{name: "only a garbling server", qname: "www.garbage-only.com.", qtype: dns.TypeA,
		rcode: dns.RcodeServerFailure},

	// Cache-poisoning attackers: none of what they plant is answered
	// (poison_test.go also reads the cache).
	{name: "out-of-bailiwick records after a CNAME", qname: "www.poison-oob.org.", qtype: dns.TypeA,
		answer: []string{"www.poison-oob.org. 3600 IN CNAME www.example.com.", "www.example.com. 3600 IN A 192.0.2.10"}},
	{name: "a DNAME and NS records for the parent zone", qname: "www.poison-parent.org.", qtype: dns.TypeA,
		answer:     []string{"www.poison-parent.org. 3600 IN A 192.0.2.88"},
		notUnbound: "Unbound 1.17 follows the attacker's org. DNAME while it normalizes the reply (it synthesizes www.poison-parent.org. CNAME www.poison-parent.poison-parent.org. and drops the A record as irrelevant) before it sanitizes the DNAME away as out of zone, then chases that CNAME through the attacker's zone until it gives up: SERVFAIL. rootwalk ignores a DNAME from outside the zone asked (RFC 2181 section 5.4.1) and answers the A record"},
	{name: "a forged reply from another address first", qname: "www.poison-race.org.", qtype: dns.TypeA,
		answer: []string{"www.poison-race.org. 3600 IN A 192.0.2.91"}},
	{name: "TTL 2^31-1, capped at one day", qname: "www.poison-ttl.org.", qtype: dns.TypeA,
		answer: []string{"www.poison-ttl.org. 86400 IN A 192.0.2.89"}},
	{name: "TTL 2^32-1, capped at one day", qname: "max.poison-ttl.org.", qtype: dns.TypeA,
		answer: []string{"max.poison-ttl.org. 86400 IN A 192.0.2.90"}},
}
