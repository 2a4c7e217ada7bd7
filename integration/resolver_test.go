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

// TestConcurrentIdenticalQuestionsCostOneWalk: twenty clients asking the
// same cold name at once cost the lab no more than one walk does.
func TestConcurrentIdenticalQuestionsCostOneWalk(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			q := new(dns.Msg)
			q.SetQuestion("www.example.com.", dns.TypeA)
			reply, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(q, s.addr.String())
			if err == nil && len(reply.Answer) != 1 {
				err = fmt.Errorf("answer %v", reply.Answer)
			}
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// One walk with QNAME minimisation: the root about com., com. about
	// example.com., example.com. about www.example.com.
	if n := lab.Queries(); n != 3 {
		t.Errorf("20 identical questions cost %d upstream queries, want one walk's 3", n)
	}
}

// TestFailureIsRemembered: a name whose only server is lame fails once;
// asked again at once, it is answered from the failure cache (RFC 9520)
// without a packet upstream, with the EDE that says so.
func TestFailureIsRemembered(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	askFull(t, s.addr, "www.lame.com.", dns.TypeA)
	before := lab.Queries()
	reply := askFull(t, s.addr, "www.lame.com.", dns.TypeA)
	if reply.Rcode != dns.RcodeServerFailure || lab.Queries() != before {
		t.Errorf("second ask: %s after %d more upstream queries; want SERVFAIL from the failure cache", dns.RcodeToString[reply.Rcode], lab.Queries()-before)
	}
	var code uint16
	if opt := reply.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				code = e.InfoCode
			}
		}
	}
	if code != dns.ExtendedErrorCodeCachedError {
		t.Errorf("EDE %d, want %d (Cached Error)", code, dns.ExtendedErrorCodeCachedError)
	}
}

// TestNXDOMAINCutOnTheLab: once nope.example.com is known not to exist,
// names under it are answered NXDOMAIN without asking (RFC 8020).
func TestNXDOMAINCutOnTheLab(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	askFull(t, s.addr, "nope.example.com.", dns.TypeA)
	before := lab.Queries()
	reply := askFull(t, s.addr, "deeper.still.nope.example.com.", dns.TypeTXT)
	if reply.Rcode != dns.RcodeNameError || lab.Queries() != before {
		t.Errorf("%s after %d upstream queries; want NXDOMAIN from the cache", dns.RcodeToString[reply.Rcode], lab.Queries()-before)
	}
}

// TestRootSeesOnlyTheTLD: with QNAME minimisation the root is asked about
// the TLD alone, and only example.com.'s server sees the whole name.
func TestRootSeesOnlyTheTLD(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	tr := trace.Run(t.Context(), s.resolver, dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, "test")
	asked := map[string]string{}
	for _, st := range tr.Steps {
		if st.Kind == "query" {
			asked[st.Zone] = st.Name + " " + st.Type
		}
	}
	want := map[string]string{".": "com. A", "com.": "example.com. A", "example.com.": "www.example.com. A"}
	if fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("asked per zone %v, want %v", asked, want)
	}
}

// TestRootPrimedAgainOnTheLab: after the root's NS RRset expires (a day,
// the cache's cap), the next walk primes again (RFC 8109) first.
func TestRootPrimedAgainOnTheLab(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	if err := s.resolver.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(24*time.Hour + time.Second)
	tr := trace.Run(t.Context(), s.resolver, dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, "test")
	var first string
	for _, st := range tr.Steps {
		if st.Kind == "query" {
			first = st.Name + " " + st.Type
			break
		}
	}
	if first != ". NS" || tr.Rcode != "NOERROR" {
		t.Errorf("first query after the root NS expired: %q (rcode %s); want the priming query . NS", first, tr.Rcode)
	}
}
