package zones

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// lookupCase is one question to one zone and the whole wanted response,
// sections as zone-format lines with explicit TTLs.
type lookupCase struct {
	name       string
	zone       string // origin of the zone asked
	qname      string
	qtype      uint16
	rcode      int
	aa         bool
	answer     []string
	authority  []string
	additional []string
}

// runLookupCases runs each case against the zone zoneOf returns.
func runLookupCases(t *testing.T, zoneOf func(t *testing.T, origin string) *Zone, cases []lookupCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z := zoneOf(t, tc.zone)
			got := z.Lookup(tc.qname, tc.qtype)
			if got.Rcode != tc.rcode {
				t.Errorf("Lookup(%s, %s) rcode = %s, want %s", tc.qname, dns.Type(tc.qtype),
					dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.rcode])
			}
			if got.Authoritative != tc.aa {
				t.Errorf("Lookup(%s, %s) AA = %t, want %t", tc.qname, dns.Type(tc.qtype), got.Authoritative, tc.aa)
			}
			checkSection(t, "answer", got.Answer, tc.answer...)
			checkSection(t, "authority", got.Authority, tc.authority...)
			checkSection(t, "additional", got.Additional, tc.additional...)
		})
	}
}

const (
	exampleSOA = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2026112701 7200 3600 1209600 300"
	orgSOA     = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2026112701 7200 3600 1209600 300"
	rootSOA    = ". 300 IN SOA a.root-servers.net. hostmaster.lab. 2026112701 7200 3600 1209600 300"
	arpaSOA    = "arpa. 300 IN SOA a.root-servers.net. hostmaster.arpa. 2026112701 7200 3600 1209600 300"
)

func TestLookupLab(t *testing.T) {
	cases := []lookupCase{
		{
			name: "authoritative answer", zone: "example.com.", qname: "www.example.com.", qtype: dns.TypeA,
			aa: true, answer: []string{"www.example.com. 3600 IN A 192.0.2.10"},
		},
		{
			name: "AAAA answer", zone: "example.com.", qname: "www.example.com.", qtype: dns.TypeAAAA,
			aa: true, answer: []string{"www.example.com. 3600 IN AAAA 2001:db8::10"},
		},
		{
			name: "case-insensitive name", zone: "example.com.", qname: "WwW.ExAmPlE.CoM.", qtype: dns.TypeA,
			aa: true, answer: []string{"www.example.com. 3600 IN A 192.0.2.10"},
		},
		{
			name: "name without final dot", zone: "example.com.", qname: "www.example.com", qtype: dns.TypeA,
			aa: true, answer: []string{"www.example.com. 3600 IN A 192.0.2.10"},
		},
		{
			name: "short TTL", zone: "example.com.", qname: "short.example.com.", qtype: dns.TypeA,
			aa: true, answer: []string{"short.example.com. 5 IN A 192.0.2.5"},
		},
		{
			name: "MX with additional address", zone: "example.com.", qname: "example.com.", qtype: dns.TypeMX,
			aa: true, answer: []string{"example.com. 3600 IN MX 10 mail.example.com."},
			additional: []string{"mail.example.com. 3600 IN A 192.0.2.25"},
		},
		{
			name: "apex NS with additional addresses", zone: "example.com.", qname: "example.com.", qtype: dns.TypeNS,
			aa: true,
			answer: []string{
				"example.com. 3600 IN NS ns1.example.com.",
				"example.com. 3600 IN NS ns2.example.com.",
			},
			additional: []string{
				"ns1.example.com. 3600 IN A 127.53.2.1",
				"ns2.example.com. 3600 IN A 127.53.2.2",
			},
		},
		{
			name: "SRV with additional address", zone: "example.com.", qname: "_sip._tcp.example.com.", qtype: dns.TypeSRV,
			aa: true, answer: []string{"_sip._tcp.example.com. 3600 IN SRV 10 60 5060 sip.example.com."},
			additional: []string{"sip.example.com. 3600 IN A 192.0.2.12"},
		},
		{
			name: "CAA", zone: "example.com.", qname: "example.com.", qtype: dns.TypeCAA,
			aa: true, answer: []string{`example.com. 3600 IN CAA 0 issue "ca.example.net"`},
		},
		{
			name: "SOA", zone: "example.com.", qname: "example.com.", qtype: dns.TypeSOA,
			aa: true, answer: []string{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2026112701 7200 3600 1209600 300"},
		},
		{
			name: "ANY gives every RRset", zone: "example.com.", qname: "example.com.", qtype: dns.TypeANY,
			aa: true,
			answer: []string{
				"example.com. 3600 IN NS ns1.example.com.",
				"example.com. 3600 IN NS ns2.example.com.",
				"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2026112701 7200 3600 1209600 300",
				"example.com. 3600 IN MX 10 mail.example.com.",
				`example.com. 3600 IN TXT "v=spf1 -all"`,
				`example.com. 3600 IN CAA 0 issue "ca.example.net"`,
			},
			additional: []string{
				"ns1.example.com. 3600 IN A 127.53.2.1",
				"ns2.example.com. 3600 IN A 127.53.2.2",
				"mail.example.com. 3600 IN A 192.0.2.25",
			},
		},
		{
			name: "NODATA", zone: "example.com.", qname: "ipv4only.example.com.", qtype: dns.TypeAAAA,
			aa: true, authority: []string{exampleSOA},
		},
		{
			name: "NXDOMAIN with SOA TTL 300", zone: "example.com.", qname: "nope.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{exampleSOA},
		},
		{
			name: "NXDOMAIN below an existing name", zone: "example.com.", qname: "deeper.www.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{exampleSOA},
		},
		{
			name: "empty non-terminal is NODATA", zone: "example.com.", qname: "_tcp.example.com.", qtype: dns.TypeA,
			aa: true, authority: []string{exampleSOA},
		},
		{
			name: "wildcard parent is an empty non-terminal", zone: "example.com.", qname: "wild.example.com.", qtype: dns.TypeA,
			aa: true, authority: []string{exampleSOA},
		},
		{
			name: "empty non-terminals in arpa", zone: "arpa.", qname: "127.in-addr.arpa.", qtype: dns.TypeNS,
			aa: true, authority: []string{arpaSOA},
		},
		{
			name: "wildcard A", zone: "example.com.", qname: "anything.wild.example.com.", qtype: dns.TypeA,
			aa: true, answer: []string{"anything.wild.example.com. 3600 IN A 192.0.2.99"},
		},
		{
			name: "wildcard TXT, mixed case", zone: "example.com.", qname: "Some.Wild.Example.Com.", qtype: dns.TypeTXT,
			aa: true, answer: []string{`some.wild.example.com. 3600 IN TXT "wildcard"`},
		},
		{
			name: "wildcard covers several labels", zone: "example.com.", qname: "a.b.wild.example.com.", qtype: dns.TypeA,
			aa: true, answer: []string{"a.b.wild.example.com. 3600 IN A 192.0.2.99"},
		},
		{
			name: "wildcard ANY", zone: "example.com.", qname: "x.wild.example.com.", qtype: dns.TypeANY,
			aa: true, answer: []string{
				"x.wild.example.com. 3600 IN A 192.0.2.99",
				`x.wild.example.com. 3600 IN TXT "wildcard"`,
			},
		},
		{
			name: "wildcard NODATA", zone: "example.com.", qname: "anything.wild.example.com.", qtype: dns.TypeMX,
			aa: true, authority: []string{exampleSOA},
		},
		{
			name: "wildcard owner asked literally", zone: "example.com.", qname: "*.wild.example.com.", qtype: dns.TypeA,
			aa: true, answer: []string{"*.wild.example.com. 3600 IN A 192.0.2.99"},
		},
		{
			name: "referral with in-bailiwick glue", zone: "example.com.", qname: "host.sub.example.com.", qtype: dns.TypeA,
			authority:  []string{"sub.example.com. 3600 IN NS ns1.sub.example.com."},
			additional: []string{"ns1.sub.example.com. 3600 IN A 127.53.2.3"},
		},
		{
			name: "referral for NS at the cut", zone: "example.com.", qname: "sub.example.com.", qtype: dns.TypeNS,
			authority:  []string{"sub.example.com. 3600 IN NS ns1.sub.example.com."},
			additional: []string{"ns1.sub.example.com. 3600 IN A 127.53.2.3"},
		},
		{
			name: "referral for glue name itself", zone: "example.com.", qname: "ns1.sub.example.com.", qtype: dns.TypeA,
			authority:  []string{"sub.example.com. 3600 IN NS ns1.sub.example.com."},
			additional: []string{"ns1.sub.example.com. 3600 IN A 127.53.2.3"},
		},
		{
			name: "DS at the cut answered by the parent", zone: "example.com.", qname: "sub.example.com.", qtype: dns.TypeDS,
			aa: true, authority: []string{exampleSOA},
		},
		{
			name: "DS below the cut is a referral", zone: "example.com.", qname: "x.sub.example.com.", qtype: dns.TypeDS,
			authority:  []string{"sub.example.com. 3600 IN NS ns1.sub.example.com."},
			additional: []string{"ns1.sub.example.com. 3600 IN A 127.53.2.3"},
		},
		{
			name: "TLD referral with two glue records", zone: "com.", qname: "www.example.com.", qtype: dns.TypeA,
			authority: []string{
				"example.com. 172800 IN NS ns1.example.com.",
				"example.com. 172800 IN NS ns2.example.com.",
			},
			additional: []string{
				"ns1.example.com. 172800 IN A 127.53.2.1",
				"ns2.example.com. 172800 IN A 127.53.2.2",
			},
		},
		{
			name: "glueless referral", zone: "net.", qname: "www.example.net.", qtype: dns.TypeA,
			authority: []string{
				"example.net. 172800 IN NS ns1.dnshost.org.",
				"example.net. 172800 IN NS ns2.dnshost.org.",
			},
		},
		{
			name: "cyclic glueless referral", zone: "com.", qname: "www.cycle-a.com.", qtype: dns.TypeA,
			authority: []string{"cycle-a.com. 172800 IN NS ns.cycle-b.net."},
		},
		{
			name: "root referral to com", zone: ".", qname: "www.example.com.", qtype: dns.TypeA,
			authority: []string{
				"com. 172800 IN NS a.gtld-servers.net.",
				"com. 172800 IN NS b.gtld-servers.net.",
			},
			additional: []string{
				"a.gtld-servers.net. 172800 IN A 127.53.1.1",
				"b.gtld-servers.net. 172800 IN A 127.53.1.2",
			},
		},
		{
			name: "root referral to arpa with glue from below net", zone: ".", qname: "1.0.53.127.in-addr.arpa.", qtype: dns.TypePTR,
			authority: []string{
				"arpa. 172800 IN NS a.root-servers.net.",
				"arpa. 172800 IN NS b.root-servers.net.",
			},
			additional: []string{
				"a.root-servers.net. 172800 IN A 127.53.0.1",
				"b.root-servers.net. 172800 IN A 127.53.0.2",
			},
		},
		{
			name: "root apex NS", zone: ".", qname: ".", qtype: dns.TypeNS,
			aa: true,
			answer: []string{
				". 518400 IN NS a.root-servers.net.",
				". 518400 IN NS b.root-servers.net.",
			},
			additional: []string{
				"a.root-servers.net. 172800 IN A 127.53.0.1",
				"b.root-servers.net. 172800 IN A 127.53.0.2",
			},
		},
		{
			name: "root NXDOMAIN", zone: ".", qname: "nope.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{rootSOA},
		},
		{
			name: "arpa glueless referral", zone: "arpa.", qname: "1.0.53.127.in-addr.arpa.", qtype: dns.TypePTR,
			authority: []string{
				"53.127.in-addr.arpa. 172800 IN NS ns1.example.com.",
				"53.127.in-addr.arpa. 172800 IN NS ns2.example.com.",
			},
		},
		{
			name: "PTR", zone: "53.127.in-addr.arpa.", qname: "1.0.53.127.in-addr.arpa.", qtype: dns.TypePTR,
			aa: true, answer: []string{"1.0.53.127.in-addr.arpa. 3600 IN PTR a.root-servers.net."},
		},
		{
			name: "CNAME leaving the zone", zone: "example.com.", qname: "alias.example.com.", qtype: dns.TypeA,
			aa: true, answer: []string{"alias.example.com. 3600 IN CNAME www.example.org."},
		},
		{
			name: "CNAME asked for itself", zone: "example.com.", qname: "alias.example.com.", qtype: dns.TypeCNAME,
			aa: true, answer: []string{"alias.example.com. 3600 IN CNAME www.example.org."},
		},
		{
			name: "CNAME asked with ANY", zone: "example.com.", qname: "loop.example.com.", qtype: dns.TypeANY,
			aa: true, answer: []string{"loop.example.com. 3600 IN CNAME loop.example.net."},
		},
		{
			name: "second link of the chain", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeAAAA,
			aa: true, answer: []string{"www.example.org. 3600 IN CNAME edge.cdnprovider.net."},
		},
		{
			name: "end of the chain", zone: "cdnprovider.net.", qname: "edge.cdnprovider.net.", qtype: dns.TypeAAAA,
			aa: true, answer: []string{"edge.cdnprovider.net. 20 IN AAAA 2001:db8::80"},
		},
		{
			name: "DNAME synthesis", zone: "example.org.", qname: "www.legacy.example.org.", qtype: dns.TypeA,
			aa: true, answer: []string{
				"legacy.example.org. 3600 IN DNAME example.com.",
				"www.legacy.example.org. 3600 IN CNAME www.example.com.",
			},
		},
		{
			name: "DNAME owner itself is not redirected", zone: "example.org.", qname: "legacy.example.org.", qtype: dns.TypeA,
			aa: true, authority: []string{orgSOA},
		},
		{
			name: "DNAME asked for itself", zone: "example.org.", qname: "legacy.example.org.", qtype: dns.TypeDNAME,
			aa: true, answer: []string{"legacy.example.org. 3600 IN DNAME example.com."},
		},
		{
			name: "target of the dangling CNAME", zone: "example.org.", qname: "nothing.example.org.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{orgSOA},
		},
		{
			name: "outside the zone", zone: "example.com.", qname: "www.example.net.", qtype: dns.TypeA,
			rcode: dns.RcodeRefused,
		},
	}
	runLookupCases(t, labParsedZone, cases)
}

func TestLookupLabHardCases(t *testing.T) {
	const (
		brokenSOA = "brokenent.net. 300 IN SOA ns1.brokenent.net. hostmaster.brokenent.net. 2026112701 7200 3600 1209600 300"
		victimSOA = "victim.org. 300 IN SOA ns1.victim.org. hostmaster.victim.org. 2026112701 7200 3600 1209600 300"
	)
	cases := []lookupCase{
		{
			name: "deep name for QNAME minimisation", zone: "example.org.", qname: "a.b.c.d.e.f.g.example.org.", qtype: dns.TypeA,
			aa: true, answer: []string{"a.b.c.d.e.f.g.example.org. 3600 IN A 192.0.2.79"},
		},
	}
	// The six empty non-terminals above it, each NODATA from a healthy
	// server, as a QNAME-minimising resolver asks for them (RFC 9156).
	for _, ent := range []string{"g", "f.g", "e.f.g", "d.e.f.g", "c.d.e.f.g", "b.c.d.e.f.g"} {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeNS} {
			cases = append(cases, lookupCase{
				name: "empty non-terminal " + ent + " " + dns.Type(qtype).String(), zone: "example.org.",
				qname: ent + ".example.org.", qtype: qtype, aa: true, authority: []string{orgSOA},
			})
		}
	}
	cases = append(cases, []lookupCase{
		{
			name: "beside an empty non-terminal is NXDOMAIN", zone: "example.org.", qname: "h.g.example.org.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{orgSOA},
		},
		{
			name: "below the deep name is NXDOMAIN", zone: "example.org.", qname: "x.a.b.c.d.e.f.g.example.org.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{orgSOA},
		},
		{
			name: "brokenent.net data: an empty non-terminal is NODATA", zone: "brokenent.net.", qname: "c.brokenent.net.", qtype: dns.TypeA,
			aa: true, authority: []string{brokenSOA},
		},
		{
			name: "NXNS referral: 20 glueless name servers", zone: "com.", qname: "www.nxns.com.", qtype: dns.TypeA,
			authority: nxnsReferral(),
		},
		{
			name: "NXNS: the name servers do not exist", zone: "victim.org.", qname: "ns20.victim.org.", qtype: dns.TypeAAAA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{victimSOA},
		},
		{
			name: "referral with A and AAAA glue", zone: "com.", qname: "v6broken.com.", qtype: dns.TypeNS,
			authority:  []string{"v6broken.com. 172800 IN NS ns1.v6broken.com."},
			additional: []string{"ns1.v6broken.com. 172800 IN A 127.53.2.27", "ns1.v6broken.com. 172800 IN AAAA ::1"},
		},
		{
			name: "apex NS with A and AAAA", zone: "v6broken.com.", qname: "v6broken.com.", qtype: dns.TypeNS,
			aa: true, answer: []string{"v6broken.com. 3600 IN NS ns1.v6broken.com."},
			additional: []string{"ns1.v6broken.com. 3600 IN A 127.53.2.27", "ns1.v6broken.com. 3600 IN AAAA ::1"},
		},
		{
			name: "TLD referral to a zone with a slow server", zone: "com.", qname: "www.fast-slow.com.", qtype: dns.TypeA,
			authority:  []string{"fast-slow.com. 172800 IN NS ns1.fast-slow.com.", "fast-slow.com. 172800 IN NS ns2.fast-slow.com."},
			additional: []string{"ns1.fast-slow.com. 172800 IN A 127.53.2.16", "ns2.fast-slow.com. 172800 IN A 127.53.2.17"},
		},
	}...)
	runLookupCases(t, labParsedZone, cases)
}

func TestLookupBigTXT(t *testing.T) {
	got := labZone(t, "example.com.").Lookup("big.example.com.", dns.TypeTXT)
	if got.Rcode != dns.RcodeSuccess || !got.Authoritative {
		t.Fatalf("rcode %s AA %t, want NOERROR AA", dns.RcodeToString[got.Rcode], got.Authoritative)
	}
	if len(got.Answer) != 40 {
		t.Fatalf("got %d TXT records, want 40", len(got.Answer))
	}
	for i, rr := range got.Answer {
		txt, ok := rr.(*dns.TXT)
		want := fmt.Sprintf("record-%02d-", i+1)
		if !ok || len(txt.Txt) != 1 || !strings.HasPrefix(txt.Txt[0], want) || len(txt.Txt[0]) != 60 {
			t.Errorf("record %d = %v, want one 60-octet string starting %q", i, rr, want)
		}
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	z := labZone(t, "example.com.")
	first := z.Lookup("www.example.com.", dns.TypeA)
	first.Answer[0].Header().Ttl = 1
	first.Answer[0].(*dns.A).A[0] = 10
	second := z.Lookup("www.example.com.", dns.TypeA)
	checkSection(t, "answer", second.Answer, "www.example.com. 3600 IN A 192.0.2.10")
}
