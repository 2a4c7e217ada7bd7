package integration

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
)

// resolverDeadline is the resolver's budget for one client question
// (resolver.DefaultTimeout), plus what a loaded test machine may add to
// it before the reply reaches the client.
const resolverDeadline = resolver.DefaultTimeout + 500*time.Millisecond

// maxSeeds bounds the resolvers, each seeded differently, tried until one
// asks the faulty server of a zone before its good sibling: each does so
// with probability one half, so 16 all missing it has odds of 1 in 65536.
const maxSeeds = 16

// faultCase is a zone of the lab whose servers misbehave (zones/fault.go)
// and what rootwalk must answer for a name in it.
type faultCase struct {
	name   string
	qname  string
	faulty string // the address of the faulty server
	// failed is the resolver counter the fault must have moved: "timeouts"
	// (a lost query) or "errors" (a reset, or a reply that did not parse).
	failed string
	answer []string // the right answer; none for SERVFAIL
	// alone: the faulty server is the zone's only server, so it is asked
	// first and nobody else can answer.
	alone bool
}

var faultCases = []faultCase{
	{name: "a lossy server beside a good one", qname: "www.lossy.com.", faulty: "127.53.2.28", failed: "timeouts",
		answer: []string{"www.lossy.com. 3600 IN A 192.0.2.81"}},
	{name: "only a lossy server: asked again, it answers", qname: "www.lossy-only.com.", faulty: "127.53.2.30", failed: "timeouts",
		answer: []string{"www.lossy-only.com. 3600 IN A 192.0.2.82"}, alone: true},
	{name: "a server that resets TCP beside a good one", qname: "www.tcp-reset.com.", faulty: "127.53.2.31", failed: "errors",
		answer: []string{"www.tcp-reset.com. 3600 IN A 192.0.2.83"}},
	{name: "only a server that resets TCP", qname: "www.tcp-reset-only.com.", faulty: "127.53.2.33", failed: "errors",
		alone: true},
	{name: "a garbling server beside a good one", qname: "www.garbage.com.", faulty: "127.53.2.34", failed: "errors",
		answer: []string{"www.garbage.com. 3600 IN A 192.0.2.85"}},
	{name: "only a garbling server", qname: "www.garbage-only.com.", faulty: "127.53.2.36", failed: "errors",
		alone: true},
	{name: "a slow server beside a fast one", qname: "www.fast-slow.com.", faulty: "127.53.2.17",
		answer: []string{"www.fast-slow.com. 3600 IN A 192.0.2.70"}},
}

// TestFaultTolerance asks rootwalk about each zone of faultCases, on a lab
// of its own, and checks that a zone with any working authority is
// answered right, and one without gets SERVFAIL with the Extended DNS
// Error "No Reachable Authority", both within the resolver's deadline.
// Where a good server stands beside the faulty one, resolvers with
// different seeds are tried until one has asked the faulty server (before
// the good one, which answers at once), so that the fault is met for sure.
func TestFaultTolerance(t *testing.T) {
	for _, c := range faultCases {
		t.Run(c.name, func(t *testing.T) {
			lab := startLab(t, 0)
			faulty := netip.MustParseAddr(c.faulty)
			for seed := range uint64(maxSeeds) {
				s := startStack(t, lab, func(o *resolver.Options) { o.Rand = rand.NewPCG(seed, seed) })
				before := lab.QueriesTo(faulty)
				start := time.Now()
				reply := ask(t, s.addr, "udp", c.qname, dns.TypeA)
				took := time.Since(start)
				checkFaultReply(t, c, reply, took)
				if lab.QueriesTo(faulty) == before {
					if c.alone {
						t.Fatalf("the zone's only server, %s, was not asked", c.faulty)
					}
					continue // the good server was asked first: try another seed
				}
				st := s.resolver.Stats()
				t.Logf("seed %d: answered in %v; upstream: %d queries, %d timeouts, %d errors, %d TCP fallbacks",
					seed, took.Round(time.Millisecond), st.UpstreamQueries, st.UpstreamTimeouts, st.UpstreamErrors, st.TCPFallbacks)
				switch {
				case c.failed == "timeouts" && st.UpstreamTimeouts == 0:
					t.Errorf("the faulty server was asked, but no query timed out")
				case c.failed == "errors" && st.UpstreamErrors == 0:
					t.Errorf("the faulty server was asked, but no exchange failed")
				}
				return
			}
			t.Fatalf("none of %d seeds made the resolver ask the faulty server %s", maxSeeds, c.faulty)
		})
	}
}

// checkFaultReply checks a reply to c's question that took took: the
// answer, or SERVFAIL with an EDE, within the resolver's deadline.
func checkFaultReply(t *testing.T, c faultCase, reply *dns.Msg, took time.Duration) {
	t.Helper()
	if took > resolverDeadline {
		t.Errorf("answered after %v; the resolver's deadline is %v", took, resolver.DefaultTimeout)
	}
	if c.answer == nil {
		if reply.Rcode != dns.RcodeServerFailure {
			t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[reply.Rcode])
		}
		if ede := findEDE(reply); ede == nil || ede.InfoCode != dns.ExtendedErrorCodeNoReachableAuthority {
			t.Errorf("Extended DNS Error %v, want %d (%s)", ede, dns.ExtendedErrorCodeNoReachableAuthority,
				dns.ExtendedErrorCodeToString[dns.ExtendedErrorCodeNoReachableAuthority])
		}
		return
	}
	if reply.Rcode != dns.RcodeSuccess {
		t.Errorf("rcode %s, want NOERROR", dns.RcodeToString[reply.Rcode])
	}
	if got, want := dnstest.Sorted(reply.Answer), dnstest.Sorted(dnstest.RRs(t, c.answer...)); !slices.Equal(got, want) {
		t.Errorf("answer\n got %q\nwant %q", got, want)
	}
}

// findEDE returns the reply's Extended DNS Error, or nil.
func findEDE(reply *dns.Msg) *dns.EDNS0_EDE {
	opt := reply.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok {
			return e
		}
	}
	return nil
}
