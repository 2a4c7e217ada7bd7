package resolver

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	dnsorder "github.com/rootwalk/rootwalk/internal/canonical"
	"github.com/rootwalk/rootwalk/internal/dnstest"
)

func TestKeepDNSSEC(t *testing.T) {
	sig := func(owner, covered, signer string) string {
		return owner + " 300 IN RRSIG " + covered + " 13 2 300 20300101000000 20200101000000 1 " + signer + " AAAA"
	}
	reply := new(dns.Msg)
	reply.Rcode = dns.RcodeSuccess
	reply.Authoritative = true
	reply.Answer = dnstest.RRs(t,
		"www.example.com. 300 IN A 192.0.2.1",
		sig("www.example.com.", "A", "example.com."),
		sig("www.example.com.", "TXT", "example.com."), // over an RRset not in the reply
		sig("www.example.net.", "A", "example.net."),   // outside the zone
	)
	reply.Ns = dnstest.RRs(t,
		"*.example.com. 300 IN NSEC zzz.example.com. A RRSIG NSEC",
		sig("*.example.com.", "NSEC", "example.com."),
		"a.example.net. 300 IN NSEC b.example.net. A RRSIG NSEC", // outside the zone
		sig("a.example.net.", "NSEC", "example.net."),
	)
	q := dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}

	plain := (&walk{r: &Resolver{}}).classify(reply, q, "example.com.")
	if got := dnstest.Set(append(plain.msg.Answer, plain.msg.Ns...)); !slices.Equal(got, []string{"www.example.com. a 192.0.2.1"}) {
		t.Errorf("without DO: %q, want the A record alone", got)
	}

	out := (&walk{r: &Resolver{}, do: true}).classify(reply, q, "example.com.")
	if out.kind != kindAnswer {
		t.Fatalf("kind %s", out.kind)
	}
	want := dnstest.Set(dnstest.RRs(t,
		"www.example.com. 300 IN A 192.0.2.1",
		sig("www.example.com.", "A", "example.com."),
		"*.example.com. 300 IN NSEC zzz.example.com. A RRSIG NSEC",
		sig("*.example.com.", "NSEC", "example.com."),
	))
	if got := dnstest.Set(append(out.msg.Answer, out.msg.Ns...)); !slices.Equal(got, want) {
		t.Errorf("with DO:\n got %q\nwant %q", got, want)
	}
}

func TestAskKeySeparatesDO(t *testing.T) {
	q := dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	to := netip.MustParseAddrPort("127.0.0.53:53")
	if askKey(to, "example.com.", q, false, false, true) == askKey(to, "example.com.", q, false, false, false) {
		t.Error("a query with DO and one without share a key: one would get the other's DNSSEC records, or lack them")
	}
}

func TestKeyCacheBounded(t *testing.T) {
	c := keyCache{entries: make(map[string]keyEntry)}
	now := time.Now()
	for i := range maxKeyEntries + 500 {
		c.put(strconv.Itoa(i)+".example.", keyEntry{insecure: true, expires: now.Add(time.Hour)}, now)
	}
	if n := len(c.entries); n > maxKeyEntries {
		t.Errorf("%d zones kept, want at most %d", n, maxKeyEntries)
	}
	if _, ok := c.get(strconv.Itoa(maxKeyEntries+499)+".example.", now); !ok {
		t.Error("the zone put last is gone")
	}
}

func TestNSECCacheStaysSorted(t *testing.T) {
	var c nsecCache
	now := time.Now()
	soa := dnstest.RRs(t, "example. 300 IN SOA ns. host. 1 2 3 4 300")
	for i := range maxNSECPerZone + 50 {
		name := strconv.Itoa((i*7919)%100000) + ".example."
		n := &dns.NSEC{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "z.example."}
		c.keep("example.", &dns.Msg{Ns: soa}, []*dns.NSEC{n}, now)
	}
	z := c.zones["example."]
	if len(z.records) != maxNSECPerZone {
		t.Errorf("%d records kept, want %d", len(z.records), maxNSECPerZone)
	}
	for i := 1; i < len(z.records); i++ {
		if dnsorder.Compare(z.records[i-1].nsec.Hdr.Name, z.records[i].nsec.Hdr.Name) >= 0 {
			t.Fatalf("records out of canonical order at %d: %s, %s", i, z.records[i-1].nsec.Hdr.Name, z.records[i].nsec.Hdr.Name)
		}
	}
}
