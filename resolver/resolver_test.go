package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

const soaExample = "example.test. 3600 IN SOA ns1.example.test. host.example.test. 1 7200 3600 1209600 300"

// testTree is a small DNS tree: a root, the TLDs test. and other., and
// zones below them with and without glue.
func testTree(t testing.TB) map[string]table {
	t.Helper()
	exampleServer := table{
		"www.example.test. A":     answer(t, "www.example.test. 3600 IN A 192.0.2.1"),
		"alias.example.test. A":   answer(t, "alias.example.test. 300 IN CNAME www.glueless.test."),
		"nope.example.test. A":    negative(t, dns.RcodeNameError, soaExample),
		"www.example.test. AAAA":  negative(t, dns.RcodeSuccess, soaExample),
		"loop.example.test. A":    answer(t, "loop.example.test. 300 IN CNAME loop.glueless.test."),
		"spoofed.example.test. A": answer(t, "spoofed.example.test. 300 IN CNAME www.glueless.test.", "www.glueless.test. 300 IN A 192.0.2.66"),
		"www.old.example.test. A": answer(t, "old.example.test. 300 IN DNAME example.test.", "www.old.example.test. 300 IN CNAME www.example.test."),
		// NXDOMAIN for a target in another zone: not this server's to say.
		"liar.example.test. A":    negative(t, dns.RcodeNameError, soaExample, "liar.example.test. 300 IN CNAME www.glueless.test."),
		"refused.example.test. A": failure(dns.RcodeRefused),
		"upward.example.test. A":  referralTo(t, []string{"test. 3600 IN NS ns1.nic.test."}),
		"example.test. NS":        answer(t, "example.test. 3600 IN NS ns1.example.test.", "example.test. 3600 IN NS ns2.example.test."),
		"example.test. DS":        negative(t, dns.RcodeSuccess, soaExample),
		"deep.example.test.":      referralTo(t, []string{"deep.example.test. 3600 IN NS ns.deep.example.test."}, "ns.deep.example.test. 3600 IN A 127.0.0.9"),
		"ns1.example.test. A":     answer(t, "ns1.example.test. 3600 IN A 127.0.0.3"),
	}
	return map[string]table{
		"127.0.0.1": { // root
			"test.":  referralTo(t, []string{"test. 172800 IN NS ns1.nic.test."}, "ns1.nic.test. 172800 IN A 127.0.0.2"),
			"other.": referralTo(t, []string{"other. 172800 IN NS ns.other."}, "ns.other. 172800 IN A 127.0.0.5"),
			". NS": {Answer: dnstest.RRs(t, ". 518400 IN NS a.root.test."), Extra: dnstest.RRs(t, "a.root.test. 518400 IN A 127.0.0.1"),
				MsgHdr: dns.MsgHdr{Authoritative: true}},
		},
		"127.0.0.2": { // test.
			"example.test.": referralTo(t,
				[]string{"example.test. 172800 IN NS ns1.example.test.", "example.test. 172800 IN NS ns2.example.test."},
				"ns1.example.test. 172800 IN A 127.0.0.3", "ns2.example.test. 172800 IN A 127.0.0.4"),
			"glueless.test.": referralTo(t, []string{"glueless.test. 172800 IN NS ns.host.other."}),
			// The glue here is outside test.: a poisoning attempt that must be ignored.
			"poison.test.":     referralTo(t, []string{"poison.test. 172800 IN NS ns.host.other."}, "ns.host.other. 172800 IN A 127.0.0.66"),
			"cycle.test.":      referralTo(t, []string{"cycle.test. 172800 IN NS ns.cycle.other."}),
			"example.test. DS": negative(t, dns.RcodeSuccess, "test. 3600 IN SOA ns1.nic.test. host.nic.test. 1 7200 3600 1209600 300"),
		},
		"127.0.0.3": exampleServer,
		"127.0.0.4": exampleServer,
		"127.0.0.5": { // other.
			"ns.host.other. A":    answer(t, "ns.host.other. 3600 IN A 127.0.0.7"),
			"ns.host.other. AAAA": negative(t, dns.RcodeSuccess, "other. 3600 IN SOA ns.other. host.other. 1 7200 3600 1209600 300"),
			"cycle.other.":        referralTo(t, []string{"cycle.other. 172800 IN NS ns.cycle.test."}),
		},
		"127.0.0.7": { // glueless.test. and poison.test.
			"www.glueless.test. A":  answer(t, "www.glueless.test. 600 IN A 192.0.2.7"),
			"loop.glueless.test. A": answer(t, "loop.glueless.test. 300 IN CNAME loop.example.test."),
			"www.poison.test. A":    answer(t, "www.poison.test. 600 IN A 192.0.2.8"),
		},
		"127.0.0.9": {
			"www.deep.example.test. A": answer(t, "www.deep.example.test. 60 IN A 192.0.2.9"),
		},
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name       string
		qname      string
		qtype      uint16
		wantRcode  int
		wantAnswer []string
		wantNs     []string
	}{
		{name: "answer after two referrals", qname: "www.example.test.", qtype: dns.TypeA,
			wantAnswer: []string{"www.example.test. 3600 in a 192.0.2.1"}},
		{name: "mixed case question", qname: "WwW.ExAmple.TEST.", qtype: dns.TypeA,
			wantAnswer: []string{"www.example.test. 3600 in a 192.0.2.1"}},
		{name: "zone three cuts deep", qname: "www.deep.example.test.", qtype: dns.TypeA,
			wantAnswer: []string{"www.deep.example.test. 60 in a 192.0.2.9"}},
		{name: "glueless delegation", qname: "www.glueless.test.", qtype: dns.TypeA,
			wantAnswer: []string{"www.glueless.test. 600 in a 192.0.2.7"}},
		{name: "CNAME across zones", qname: "alias.example.test.", qtype: dns.TypeA,
			wantAnswer: []string{"alias.example.test. 300 in cname www.glueless.test.", "www.glueless.test. 600 in a 192.0.2.7"}},
		{name: "out-of-zone record after CNAME is not believed", qname: "spoofed.example.test.", qtype: dns.TypeA,
			wantAnswer: []string{"spoofed.example.test. 300 in cname www.glueless.test.", "www.glueless.test. 600 in a 192.0.2.7"}},
		{name: "NXDOMAIN after a CNAME out of the zone is checked with the target's zone", qname: "liar.example.test.", qtype: dns.TypeA,
			wantAnswer: []string{"liar.example.test. 300 IN CNAME www.glueless.test.", "www.glueless.test. 600 IN A 192.0.2.7"}},
		{name: "DNAME is applied by the resolver", qname: "www.old.example.test.", qtype: dns.TypeA,
			wantAnswer: []string{"old.example.test. 300 in dname example.test.", "www.example.test. 3600 in a 192.0.2.1", "www.old.example.test. 300 in cname www.example.test."}},
		{name: "NXDOMAIN with SOA", qname: "nope.example.test.", qtype: dns.TypeA, wantRcode: dns.RcodeNameError,
			wantNs: []string{soaExample}},
		{name: "NODATA with SOA", qname: "www.example.test.", qtype: dns.TypeAAAA,
			wantNs: []string{soaExample}},
		{name: "NS of a zone comes from the child", qname: "example.test.", qtype: dns.TypeNS,
			wantAnswer: []string{"example.test. 3600 in ns ns1.example.test.", "example.test. 3600 in ns ns2.example.test."}},
		{name: "DS is asked of the parent", qname: "example.test.", qtype: dns.TypeDS,
			wantNs: []string{"test. 3600 in soa ns1.nic.test. host.nic.test. 1 7200 3600 1209600 300"}},
		{name: "out-of-bailiwick glue is ignored", qname: "www.poison.test.", qtype: dns.TypeA,
			wantAnswer: []string{"www.poison.test. 600 in a 192.0.2.8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net := newFakeNet(testTree(t))
			r := newTestResolver(t, net, nil)
			res, err := r.Resolve(t.Context(), dns.Question{Name: tc.qname, Qtype: tc.qtype, Qclass: dns.ClassINET})
			if err != nil {
				t.Fatalf("Resolve: %v\nqueries: %q", err, net.queries())
			}
			got := res.Reply
			if got.Rcode != tc.wantRcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.wantRcode])
			}
			if g, w := dnstest.Sorted(got.Answer), dnstest.Sorted(dnstest.RRs(t, tc.wantAnswer...)); !slices.Equal(g, w) {
				t.Errorf("answer\n got %q\nwant %q", g, w)
			}
			if g, w := dnstest.Sorted(got.Ns), dnstest.Sorted(dnstest.RRs(t, tc.wantNs...)); !slices.Equal(g, w) {
				t.Errorf("authority\n got %q\nwant %q", g, w)
			}
			for _, q := range net.queries() {
				if strings.HasPrefix(q, "127.0.0.66 ") {
					t.Errorf("asked the address from out-of-bailiwick glue: %s", q)
				}
			}
		})
	}
}

func TestResolveFailures(t *testing.T) {
	tests := []struct {
		name    string
		qname   string
		mutate  func(map[string]table)
		wantErr []error
	}{
		{name: "CNAME loop across zones", qname: "loop.example.test.", wantErr: []error{ErrLoop}},
		{name: "glueless delegations that need each other", qname: "www.cycle.test.", wantErr: []error{ErrNoReachableAuthority, ErrLoop}},
		{name: "every server refuses", qname: "refused.example.test.", wantErr: []error{ErrNoReachableAuthority, ErrLameDelegation}},
		{name: "upward referral is lame", qname: "upward.example.test.", wantErr: []error{ErrNoReachableAuthority, ErrLameDelegation}},
		{name: "every server is silent", qname: "www.example.test.",
			mutate:  func(tr map[string]table) { delete(tr, "127.0.0.3"); delete(tr, "127.0.0.4") },
			wantErr: []error{ErrNoReachableAuthority, ErrTimeout}},
		{name: "endless referrals hit the budget", qname: "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example.test.",
			mutate: func(tr map[string]table) {
				// Each zone's server refers one label deeper, to the next server.
				labels := dns.SplitDomainName("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example.test.")
				server := "127.0.0.3"
				for i := len(labels) - 3; i >= 0; i-- {
					zone := dns.Fqdn(strings.Join(labels[i:], "."))
					next := fmt.Sprintf("127.0.1.%d", i)
					tr[server] = table{zone: referralTo(t, []string{zone + " 60 IN NS ns." + zone}, "ns."+zone+" 60 IN A "+next)}
					server = next
				}
				tr["127.0.0.4"] = tr["127.0.0.3"]
			},
			wantErr: []error{ErrBudgetExceeded}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := testTree(t)
			if tc.mutate != nil {
				tc.mutate(tree)
			}
			net := newFakeNet(tree)
			r := newTestResolver(t, net, nil)
			got, err := r.Resolve(t.Context(), dns.Question{Name: tc.qname, Qtype: dns.TypeA, Qclass: dns.ClassINET})
			if err == nil {
				t.Fatalf("Resolve gave %v, want an error", got)
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %q", err, want)
				}
			}
			if n := len(net.queries()); n > maxUpstreamQueries+1 {
				t.Errorf("%d upstream queries, over the budget of %d", n, maxUpstreamQueries)
			}
		})
	}
}

func TestLameServerIsSkipped(t *testing.T) {
	tree := testTree(t)
	tree["127.0.0.3"] = table{"example.test.": failure(dns.RcodeRefused)}
	lameFirst := 0
	for seed := range uint64(16) { // seeds that put either server first
		net := newFakeNet(tree)
		r := newSeededResolver(t, net, nil, seed)
		res, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
		if err != nil || len(res.Reply.Answer) != 1 {
			t.Fatalf("seed %d: got %v, %v; want the answer from the good server\nqueries: %q", seed, res, err, net.queries())
		}
		if slices.Contains(net.queries(), "127.0.0.3 www.example.test. A") {
			lameFirst++
		}
	}
	if lameFirst == 0 || lameFirst == 16 {
		t.Errorf("the lame server was asked first in %d of 16 runs; the test needs both orders", lameFirst)
	}
}

func TestCacheSavesQueries(t *testing.T) {
	net := newFakeNet(testTree(t))
	c := newMapCache()
	r := newTestResolver(t, net, c)
	clock := r.clock.(*dnstest.Clock)
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if _, err := r.Resolve(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	first := len(net.queries())

	clock.Advance(10 * time.Second)
	res, err := r.Resolve(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(net.queries()); n != first || res.Upstream != 0 {
		t.Errorf("second resolution sent %d queries (Upstream %d), want none: %q", n-first, res.Upstream, net.queries()[first:])
	}
	got := res.Reply
	if len(got.Answer) != 1 || got.Answer[0].Header().Ttl != 3600 {
		// The map cache does not count TTLs down; the real cache's tests do.
		t.Errorf("answer %v", got.Answer)
	}

	// Another name in the same zone starts at the cached delegation.
	q2 := dns.Question{Name: "nope.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if _, err := r.Resolve(t.Context(), q2); err != nil {
		t.Fatal(err)
	}
	sent := net.queries()[first:]
	if len(sent) != 1 || !strings.HasPrefix(sent[0], "127.0.0.3 ") && !strings.HasPrefix(sent[0], "127.0.0.4 ") {
		t.Errorf("queries for a second name in a cached zone: %q, want one to an example.test. server", sent)
	}
}

func TestTracerSeesTheWalk(t *testing.T) {
	net := newFakeNet(testTree(t))
	r := newTestResolver(t, net, nil)
	var steps []string
	ctx := WithTracer(t.Context(), TracerFunc(func(e Event) {
		s := e.Kind.String() + " " + e.Zone
		if e.Kind == EventReply {
			s += " " + e.Outcome
		}
		steps = append(steps, s)
	}))
	if _, err := r.Resolve(ctx, dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"start .", "query .", "reply . referral",
		"query test.", "reply test. referral",
		"query example.test.", "reply example.test. answer",
	}
	if !slices.Equal(steps, want) {
		t.Errorf("steps\n got %q\nwant %q", steps, want)
	}
}

func TestPrime(t *testing.T) {
	net := newFakeNet(testTree(t))
	c := newMapCache()
	r := newTestResolver(t, net, c)
	if r.Primed() {
		t.Fatal("primed before Prime")
	}
	if err := r.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !r.Primed() {
		t.Error("not primed after Prime")
	}
	d, ok := c.Delegation(".", r.clock.Now())
	if !ok || len(d.Ns) != 1 || len(d.Extra) != 1 {
		t.Fatalf("cached root delegation %v, %v", d, ok)
	}
}

func TestDeadlineBoundsResolution(t *testing.T) {
	// A network that never answers until the context ends.
	block := ExchangerFunc(func(ctx context.Context, _ *dns.Msg, _ netip.AddrPort, _ time.Duration) (Response, error) {
		<-ctx.Done()
		return Response{}, ctx.Err()
	})
	r := newTestResolver(t, block, nil)
	r.timeout = 50 * time.Millisecond
	_, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the deadline", err)
	}
}

func TestNewNeedsHintsAndPort(t *testing.T) {
	if _, err := New(Options{UpstreamPort: 53}); err == nil {
		t.Error("New without hints succeeded")
	}
	if _, err := New(Options{Hints: testHints}); err == nil {
		t.Error("New without upstream port succeeded")
	}
}

func TestAllowUpstreamKeepsQueriesInside(t *testing.T) {
	net := newFakeNet(testTree(t))
	r, err := New(Options{
		Hints: testHints, UpstreamPort: 53, Exchanger: net,
		AllowUpstream: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/30")}, // root, test. and .3 only
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if _, err := r.Resolve(t.Context(), dns.Question{Name: "www.glueless.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); !errors.Is(err, ErrNoReachableAuthority) {
		t.Errorf("error %v, want no reachable authority", err)
	}
	for _, q := range net.queries() {
		if a := netip.MustParseAddr(strings.Fields(q)[0]); !netip.MustParsePrefix("127.0.0.0/30").Contains(a) {
			t.Errorf("sent outside AllowUpstream: %s", q)
		}
	}
}

func TestContextCacheLeavesOwnCacheAlone(t *testing.T) {
	own, private := newMapCache(), newMapCache()
	net := newFakeNet(testTree(t))
	r := newTestResolver(t, net, own)
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if _, err := r.Resolve(WithCache(t.Context(), private), q); err != nil {
		t.Fatal(err)
	}
	if len(own.entries) != 0 {
		t.Errorf("the resolver's own cache got %d entries from a resolution with a cache of its own", len(own.entries))
	}
	if len(private.entries) == 0 {
		t.Error("the context's cache got nothing")
	}
}

func TestStatsAndEvents(t *testing.T) {
	// Every reply "came over TCP after truncation", to see the event.
	fake := newFakeNet(testTree(t))
	tcp := ExchangerFunc(func(ctx context.Context, q *dns.Msg, s netip.AddrPort, d time.Duration) (Response, error) {
		resp, err := fake.Exchange(ctx, q, s, d)
		resp.TCP = err == nil
		return resp, err
	})
	r := newTestResolver(t, tcp, nil)
	var kinds []string
	ctx := WithTracer(t.Context(), TracerFunc(func(e Event) { kinds = append(kinds, e.Kind.String()) }))
	if _, err := r.Resolve(ctx, dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(t.Context(), dns.Question{Name: "refused.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err == nil {
		t.Fatal("refused.example.test resolved")
	}
	want := []string{"start", "query", "tcp-retry", "reply", "query", "tcp-retry", "reply", "query", "tcp-retry", "reply"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q", kinds, want)
	}
	s := r.Stats()
	if s.Resolutions != 2 || s.Failures != 1 || s.InFlight != 0 || s.UpstreamQueries != 7 || s.TCPFallbacks != 7 || s.UpstreamRTT.Count != 7 {
		t.Errorf("stats %+v; want 2 resolutions, 1 failure, 7 queries (3, then 4 for the refused name: root, test., both servers) over TCP with 7 RTTs", s)
	}
}

func TestDenyUpstream(t *testing.T) {
	// The test tree's glue is all 127.0.0.x; denying 127.0.0.2 (test.'s
	// server) leaves nothing to ask for names under test.
	net := newFakeNet(testTree(t))
	r, err := New(Options{
		Hints: testHints, UpstreamPort: 53, Exchanger: net,
		DenyUpstream: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if _, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); !errors.Is(err, ErrNoReachableAuthority) {
		t.Errorf("error %v, want no reachable authority", err)
	}
	for _, q := range net.queries() {
		if strings.HasPrefix(q, "127.0.0.2 ") {
			t.Errorf("sent to a denied address: %s", q)
		}
	}
	for _, a := range []string{"10.1.2.3", "192.168.1.1", "127.0.0.1", "::1", "fe80::1", "169.254.1.1", "192.0.2.1", "2001:db8::1", "224.0.0.1", "0.0.0.0"} {
		if !containsAddr(NonPublic, netip.MustParseAddr(a)) {
			t.Errorf("%s is not in NonPublic", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "198.41.0.4", "2001:503:ba3e::2:30"} {
		if containsAddr(NonPublic, netip.MustParseAddr(a)) {
			t.Errorf("public %s is in NonPublic", a)
		}
	}
}

func TestGluelessLookupsAreBounded(t *testing.T) {
	// nxns.test. is delegated to 20 glueless servers under other., none
	// of which exist: at most maxNSAddressLookups are looked up.
	tree := testTree(t)
	var ns []string
	for i := range 20 {
		ns = append(ns, fmt.Sprintf("nxns.test. 60 IN NS ns%02d.host.other.", i))
	}
	tree["127.0.0.2"]["nxns.test."] = referralTo(t, ns)
	tree["127.0.0.5"]["host.other."] = negative(t, dns.RcodeNameError, "other. 3600 IN SOA ns.other. host.other. 1 7200 3600 1209600 300")
	fake := newFakeNet(tree)
	r := newTestResolver(t, fake, newMapCache())
	if _, err := r.Resolve(t.Context(), dns.Question{Name: "www.nxns.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); !errors.Is(err, ErrNoReachableAuthority) {
		t.Errorf("error %v, want no reachable authority", err)
	}
	if n := countTo(fake.queries(), "127.0.0.5"); n > maxNSAddressLookups {
		t.Errorf("%d lookups of glueless servers, want at most %d", n, maxNSAddressLookups)
	}
}
