package zones

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// chainZone exercises the in-zone chains the lab has none of: its SOA TTL
// (120) is below its MINIMUM (300), so negative answers carry 120.
var chainZone = `$ORIGIN test.
$TTL 3600
@            120 IN SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300
@                IN NS    ns.test.
ns               IN A     192.0.2.1
a                IN CNAME b.test.
b             60 IN CNAME c.test.
c                IN A     192.0.2.3
c                IN MX    10 mail.test.
mail             IN A     192.0.2.25
dangling         IN CNAME missing.test.
loop1            IN CNAME loop2.test.
loop2            IN CNAME loop1.test.
self             IN CNAME self.test.
tocut            IN CNAME host.deleg.test.
deleg            IN NS    ns.deleg.test.
ns.deleg         IN A     192.0.2.53
d             30 IN DNAME target.test.
host.target      IN A     192.0.2.7
dd               IN DNAME d.test.
*.wc             IN CNAME c.test.
long             IN DNAME ` + longTarget + `
`

// longTarget is a name of 251 octets in wire form, so a DNAME to it
// overflows 255 octets for all but the shortest prefixes.
var longTarget = strings.Repeat(strings.Repeat("x", 59)+".", 4) + "abcd.test."

// chainLinks writes l0 CNAME l1 ... l<n-1> CNAME l<n>, l<n> A.
func chainLinks(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "l%d IN CNAME l%d.test.\n", i, i+1)
	}
	fmt.Fprintf(&b, "l%d IN A 192.0.2.100\n", n)
	return b.String()
}

func TestLookupChains(t *testing.T) {
	const soa = "test. 120 IN SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300"
	links := maxChain + 2
	var longChain []string
	for i := range maxChain + 1 {
		longChain = append(longChain, fmt.Sprintf("l%d.test. 3600 IN CNAME l%d.test.", i, i+1))
	}
	var shortChain []string
	for i := range maxChain {
		shortChain = append(shortChain, fmt.Sprintf("l%d.test. 3600 IN CNAME l%d.test.", i+links-maxChain, i+links-maxChain+1))
	}
	shortChain = append(shortChain, fmt.Sprintf("l%d.test. 3600 IN A 192.0.2.100", links))

	cases := []lookupCase{
		{
			name: "in-zone CNAME restart", qname: "a.test.", qtype: dns.TypeA, aa: true,
			answer: []string{
				"a.test. 3600 IN CNAME b.test.",
				"b.test. 60 IN CNAME c.test.",
				"c.test. 3600 IN A 192.0.2.3",
			},
		},
		{
			name: "additional processing at the end of a chain", qname: "b.test.", qtype: dns.TypeMX, aa: true,
			answer: []string{
				"b.test. 60 IN CNAME c.test.",
				"c.test. 3600 IN MX 10 mail.test.",
			},
			additional: []string{"mail.test. 3600 IN A 192.0.2.25"},
		},
		{
			name: "chain ending in NODATA", qname: "a.test.", qtype: dns.TypeAAAA, aa: true,
			answer: []string{
				"a.test. 3600 IN CNAME b.test.",
				"b.test. 60 IN CNAME c.test.",
			},
			authority: []string{soa},
		},
		{
			name: "chain ending in NXDOMAIN", qname: "dangling.test.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true,
			answer:    []string{"dangling.test. 3600 IN CNAME missing.test."},
			authority: []string{soa},
		},
		{
			name: "two-name CNAME loop stops", qname: "loop1.test.", qtype: dns.TypeA, aa: true,
			answer: []string{
				"loop1.test. 3600 IN CNAME loop2.test.",
				"loop2.test. 3600 IN CNAME loop1.test.",
			},
		},
		{
			name: "CNAME to itself stops", qname: "self.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"self.test. 3600 IN CNAME self.test."},
		},
		{
			name: "chain longer than the bound stops", qname: "l0.test.", qtype: dns.TypeA, aa: true,
			answer: longChain,
		},
		{
			name: "chain exactly at the bound completes", qname: fmt.Sprintf("l%d.test.", links-maxChain), qtype: dns.TypeA, aa: true,
			answer: shortChain,
		},
		{
			name: "CNAME into a delegation keeps AA", qname: "tocut.test.", qtype: dns.TypeA, aa: true,
			answer:     []string{"tocut.test. 3600 IN CNAME host.deleg.test."},
			authority:  []string{"deleg.test. 3600 IN NS ns.deleg.test."},
			additional: []string{"ns.deleg.test. 3600 IN A 192.0.2.53"},
		},
		{
			name: "DNAME continues inside the zone", qname: "host.d.test.", qtype: dns.TypeA, aa: true,
			answer: []string{
				"d.test. 30 IN DNAME target.test.",
				"host.d.test. 30 IN CNAME host.target.test.",
				"host.target.test. 3600 IN A 192.0.2.7",
			},
		},
		{
			name: "DNAME to NXDOMAIN", qname: "gone.d.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true,
			answer: []string{
				"d.test. 30 IN DNAME target.test.",
				"gone.d.test. 30 IN CNAME gone.target.test.",
			},
			authority: []string{soa},
		},
		{
			name: "DNAME into DNAME", qname: "host.dd.test.", qtype: dns.TypeA, aa: true,
			answer: []string{
				"dd.test. 3600 IN DNAME d.test.",
				"host.dd.test. 3600 IN CNAME host.d.test.",
				"d.test. 30 IN DNAME target.test.",
				"host.d.test. 30 IN CNAME host.target.test.",
				"host.target.test. 3600 IN A 192.0.2.7",
			},
		},
		{
			name: "DNAME overflow is YXDOMAIN", qname: strings.Repeat("y", 20) + ".long.test.", qtype: dns.TypeA,
			rcode: dns.RcodeYXDomain, aa: true,
			answer: []string{"long.test. 3600 IN DNAME " + longTarget},
		},
		{
			name: "DNAME just within 255 octets", qname: "y.long.test.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true,
			answer: []string{
				"long.test. 3600 IN DNAME " + longTarget,
				"y.long.test. 3600 IN CNAME y." + longTarget,
			},
			authority: []string{soa},
		},
		{
			name: "wildcard CNAME", qname: "any.wc.test.", qtype: dns.TypeA, aa: true,
			answer: []string{
				"any.wc.test. 3600 IN CNAME c.test.",
				"c.test. 3600 IN A 192.0.2.3",
			},
		},
		{
			name: "negative TTL is the SOA TTL when lower than MINIMUM", qname: "nope.test.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, aa: true, authority: []string{soa},
		},
	}
	z := parseZone(t, "test.", chainZone+chainLinks(links))
	runLookupCases(t, func(*testing.T, string) *Zone { return z }, cases)
}
