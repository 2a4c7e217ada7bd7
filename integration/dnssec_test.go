package integration

import (
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dnssecCase is one question about the signed lab and what a validating
// resolver must answer: the rcode and whether the answer is secure (AD).
type dnssecCase struct {
	name   string
	qname  string
	qtype  uint16
	rcode  int
	secure bool
}

// dnssecCases covers every kind of signed, insecure and broken data the
// lab has (zones/labsign.go).
var dnssecCases = []dnssecCase{
	{name: "secure answer (ECDSA, NSEC zone)", qname: "www.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure name error (NSEC)", qname: "nope.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError, secure: true},
	{name: "secure NODATA (NSEC)", qname: "ipv4only.example.com.", qtype: dns.TypeAAAA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure wildcard answer (NSEC)", qname: "x.wild.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure wildcard NODATA (NSEC)", qname: "x.wild.example.com.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure answer three cuts deep (Ed25519, NSEC3)", qname: "host.sub.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure answer (RSA/SHA-256, NSEC3) behind a glueless delegation", qname: "www.example.net.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure CNAME chain across three zones", qname: "alias.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure DNAME", qname: "www.legacy.example.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure name under six empty non-terminals", qname: "a.b.c.d.e.f.g.example.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure NODATA at an empty non-terminal", qname: "b.c.d.e.f.g.example.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure name error in a TLD (NSEC3)", qname: "nope.net.", qtype: dns.TypeA, rcode: dns.RcodeNameError, secure: true},
	{name: "secure name error in a TLD (NSEC)", qname: "nope.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, secure: true},
	{name: "secure DS", qname: "example.com.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure no-DS proof (NSEC3)", qname: "nocase.net.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure no-DS proof (NSEC)", qname: "insecure.org.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure answer needing TCP", qname: "big.example.com.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, secure: true},
	{name: "the RRSIG-less zone's signed TXT", qname: "www.rrsig-missing.org.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, secure: true},
	{name: "the forged zone's genuine answer", qname: "www.nsec-forged.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},

	{name: "insecure: unsigned zone, no DS proven by NSEC", qname: "www.insecure.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},
	{name: "insecure: unsigned zone, no DS proven by NSEC3", qname: "www.nocase.net.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},
	{name: "insecure: unsigned zone under an NSEC3 opt-out span", qname: "www.partly-lame.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},
	{name: "insecure: name error under an opt-out span", qname: "nope.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError},
	{name: "insecure: no-DS proof under an opt-out span", qname: "lame.com.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess},
	{name: "insecure: algorithm RSA/MD5", qname: "www.unknown-algo.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},

	{name: "bogus: expired signatures", qname: "www.sig-expired.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure},
	{name: "bogus: DS matching no key", qname: "www.ds-mismatch.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure},
	{name: "bogus: RRSIG missing", qname: "www.rrsig-missing.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure},
	{name: "bogus: forged NSEC", qname: "gone.nsec-forged.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure},
}

// askDO asks name with the DO bit over UDP, then TCP if truncated.
func askDO(t *testing.T, addr string, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, true)
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 10 * time.Second}
		reply, _, err := c.Exchange(q, addr)
		if err != nil {
			t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
		}
		if !reply.Truncated {
			return reply
		}
	}
	t.Fatalf("%s %s: truncated over TCP", name, dns.TypeToString[qtype])
	return nil
}

// TestUnboundValidatesLab checks the signed lab against a real validator:
// Unbound, given the lab's trust anchor, finds every case as secure,
// insecure or bogus as the lab means it to be. The same table will judge
// rootwalk's validator.
func TestUnboundValidatesLab(t *testing.T) {
	unbound := mustHave(t, "unbound")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the lab needs port 53, which needs root")
		}
		t.Skip("the lab needs port 53, which needs root")
	}
	lab := startLab(t, 53)
	ubAddr, _ := startUnbound(t, unbound, lab, true)
	for _, c := range dnssecCases {
		t.Run(c.name, func(t *testing.T) {
			reply := askDO(t, ubAddr.String(), c.qname, c.qtype)
			if reply.Rcode != c.rcode || reply.AuthenticatedData != c.secure {
				t.Errorf("%s %s: rcode %s, AD %v; want %s, AD %v", c.qname, dns.TypeToString[c.qtype],
					dns.RcodeToString[reply.Rcode], reply.AuthenticatedData, dns.RcodeToString[c.rcode], c.secure)
			}
		})
	}
}
