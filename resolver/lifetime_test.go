package resolver

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

func TestRootIsPrimedAgainWhenItExpires(t *testing.T) {
	tree := testTree(t)
	tree["127.0.0.1"][". NS"] = &dns.Msg{
		MsgHdr: dns.MsgHdr{Authoritative: true},
		Answer: dnstest.RRs(t, ". 60 IN NS a.root.test."),
		Extra:  dnstest.RRs(t, "a.root.test. 60 IN A 127.0.0.1"),
	}
	fake := newFakeNet(tree)
	r := newTestResolver(t, fake, newMapCache())
	if err := r.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.clock.(*dnstest.Clock).Advance(61 * time.Second)
	before := len(fake.queries())
	if _, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
		t.Fatal(err)
	}
	sent := fake.queries()[before:]
	if len(sent) == 0 || sent[0] != "127.0.0.1 . NS" {
		t.Errorf("queries after the root NS expired %q, want a priming query first", sent)
	}
}

func TestDelegationDoesNotOutliveTheParent(t *testing.T) {
	// The parent gives example.test. for 60 s; the child says its NS
	// RRset lives 3600 s. After 60 s, a new name is asked of the parent
	// again (ghost-domain defence): the child's word never extends the cut.
	tree := testTree(t)
	tree["127.0.0.2"]["example.test."] = referralTo(t,
		[]string{"example.test. 60 IN NS ns1.example.test."}, "ns1.example.test. 60 IN A 127.0.0.3")
	tree["127.0.0.3"]["mail.example.test. A"] = answer(t, "mail.example.test. 3600 IN A 192.0.2.2")
	fake := newFakeNet(tree)
	r := newTestResolver(t, fake, newMapCache())
	for _, q := range []dns.Question{
		{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
		{Name: "example.test.", Qtype: dns.TypeNS, Qclass: dns.ClassINET}, // the child's own NS RRset, TTL 3600
	} {
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.(*dnstest.Clock).Advance(61 * time.Second)
	before := len(fake.queries())
	if _, err := r.Resolve(t.Context(), dns.Question{Name: "mail.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
		t.Fatal(err)
	}
	if sent := fake.queries()[before:]; countTo(sent, "127.0.0.2") == 0 {
		t.Errorf("after the parent's TTL, queries %q did not go back to the parent", sent)
	}
}

func TestNXDOMAINCut(t *testing.T) {
	fake := newFakeNet(testTree(t))
	r := newTestResolver(t, fake, newMapCache())
	if _, err := r.Resolve(t.Context(), dns.Question{Name: "nope.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
		t.Fatal(err)
	}
	before := len(fake.queries())
	for _, q := range []dns.Question{
		{Name: "nope.example.test.", Qtype: dns.TypeMX, Qclass: dns.ClassINET},    // another type
		{Name: "a.b.nope.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, // below it
	} {
		res, err := r.Resolve(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reply.Rcode != dns.RcodeNameError || len(res.Reply.Ns) != 1 || res.Upstream != 0 {
			t.Errorf("%s %s: %v, upstream %d; want NXDOMAIN with the SOA from the cache", q.Name, dns.TypeToString[q.Qtype], res.Reply, res.Upstream)
		}
	}
	if sent := fake.queries()[before:]; len(sent) != 0 {
		t.Errorf("sent %q for names under a cached NXDOMAIN", sent)
	}
}
