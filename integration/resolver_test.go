package integration

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/resolver/trace"
)

// The resolver's behaviours of issue 4, each shown on the lab.

func resolveAll(t *testing.T, s *stack, names ...string) {
	t.Helper()
	for _, n := range names {
		askFull(t, s.addr, n, dns.TypeA)
	}
}

func names(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

// TestFastServerGetsMostQueries: fast-slow.com has a server answering at
// once and one answering after 150 ms; of 40 names, most go to the fast one.
func TestFastServerGetsMostQueries(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	fast, slow := netip.MustParseAddr("127.53.2.16"), netip.MustParseAddr("127.53.2.17")
	resolveAll(t, s, names("n%d.fast-slow.com.", 40)...)
	f, sl := lab.QueriesTo(fast), lab.QueriesTo(slow)
	if f < 30 || f < 4*sl {
		t.Errorf("fast server %d queries, slow %d; want most to the fast one", f, sl)
	}
	t.Logf("40 names: fast server %d queries, slow server %d", f, sl)
}

// TestLameServerSkippedAfterFirstFailure: partly-lame.com's ns1 answers
// REFUSED; once seen, it is not asked again for that zone.
func TestLameServerSkippedAfterFirstFailure(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	lame := netip.MustParseAddr("127.53.2.8")
	resolveAll(t, s, names("n%d.partly-lame.com.", 20)...)
	if n := lab.QueriesTo(lame); n > 1 {
		t.Errorf("the lame server got %d queries in 20 resolutions, want at most 1", n)
	}
}

// TestSilentServerSetAside: partly-dead.com's ns1 never answers; after a
// few timeouts it is left alone, and answers keep coming fast.
func TestSilentServerSetAside(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	dead := netip.MustParseAddr("127.53.2.10")
	resolveAll(t, s, names("n%d.partly-dead.com.", 20)...)
	if n := lab.QueriesTo(dead); n > 3 {
		t.Errorf("the silent server got %d queries in 20 resolutions, want at most 3", n)
	}
}

// TestCaseNotEchoedIsCaught: nocase.net's server lowercases the question;
// the mixed-case reply is thrown away, the server asked again in plain
// case, and the answer is right.
func TestCaseNotEchoedIsCaught(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	tr := trace.Run(t.Context(), s.resolver, dns.Question{Name: "www.nocase.net.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, "test")
	var caught bool
	for _, st := range tr.Steps {
		if st.Kind == "error" && strings.Contains(st.Error, "0x20") {
			caught = true
		}
	}
	if !caught || tr.Rcode != "NOERROR" || len(tr.Answer) != 1 {
		t.Errorf("trace %+v: want the unechoed case caught, then the answer", tr)
	}
}

// TestNXNSStaysUnderTheCap: nxns.com is delegated to 20 glueless servers
// that do not exist; only a few are looked up, far under the query cap.
func TestNXNSStaysUnderTheCap(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	if err := s.resolver.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	askFull(t, s.addr, "www.example.org.", dns.TypeA) // org. is known
	before, victimBefore := lab.Queries(), lab.QueriesTo(netip.MustParseAddr("127.53.2.26"))
	reply := askFull(t, s.addr, "www.nxns.com.", dns.TypeA)
	sent, victim := lab.Queries()-before, lab.QueriesTo(netip.MustParseAddr("127.53.2.26"))-victimBefore
	if reply.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[reply.Rcode])
	}
	if sent > 20 || victim > 8 {
		t.Errorf("www.nxns.com cost %d queries, %d of them to the victim; want at most 20 and 8 (4 glueless names, A and maybe AAAA)", sent, victim)
	}
	t.Logf("NXNS delegation: %d upstream queries, %d to the victim zone's server", sent, victim)
}

// TestColdStartWithDeadRootAndBrokenIPv6: a fresh resolver whose hints
// add a root server that never answers and an IPv6 address nobody
// answers on still gives its first answers within 2 s.
func TestColdStartWithDeadRootAndBrokenIPv6(t *testing.T) {
	lab := startLab(t, 0)
	// A dead root: a socket that reads and never answers.
	dead, err := net.ListenPacket("udp", fmt.Sprintf("127.53.0.3:%d", lab.Port()))
	if err != nil {
		t.Skipf("cannot bind 127.53.0.3: %v", err)
	}
	defer dead.Close()
	hints, err := resolver.ParseHints(strings.NewReader(lab.Hints()+
		".  3600000 NS c.root-servers.net.\nc.root-servers.net. 3600000 A 127.53.0.3\n"+
		"a.root-servers.net. 3600000 AAAA ::1\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"www.example.com.", "www.v6broken.com.", "alias.example.com."} {
		c, err := cache.New(cache.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := resolver.New(resolver.Options{Hints: hints, UpstreamPort: uint16(lab.Port()), IPv6: true,
			QNameMinimisation: true, AllowUpstream: resolver.Loopback, Cache: c})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := r.Resolve(t.Context(), dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET})
		took := time.Since(start)
		r.Close()
		if err != nil || len(res.Reply.Answer) == 0 {
			t.Errorf("%s: %v, %v", name, res, err)
			continue
		}
		if took > 2*time.Second {
			t.Errorf("%s: first answer after %v, want within 2 s", name, took)
		}
		t.Logf("%s: first answer of a cold resolver in %v", name, took.Round(time.Millisecond))
	}
}
