package integration

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/zones"
)

// TestLocalStubAndForwardZones: local zones (the operator's and the
// special-use ones) are answered without a packet upstream; a stub zone is
// walked from its configured server only; a forward zone is asked of
// another resolver, with recursion desired.
func TestLocalStubAndForwardZones(t *testing.T) {
	lab := startLab(t, 0)
	dir := t.TempDir()
	home := "$ORIGIN home.arpa.\n@ 3600 IN SOA ns.home.arpa. admin.home.arpa. 1 3600 600 86400 300\n@ 3600 IN NS ns\nns 3600 IN A 192.168.1.1\nprinter 3600 IN A 192.168.1.20\n"
	if err := os.WriteFile(filepath.Join(dir, "home.arpa.zone"), []byte(home), 0o644); err != nil {
		t.Fatal(err)
	}
	own, err := zones.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := zones.Builtin(zones.BuiltinOptions{KeepLoopbackReverse: true})
	if err != nil {
		t.Fatal(err)
	}
	forwarder := startStack(t, lab) // another rootwalk, the forward zone's resolver
	labPort := uint16(lab.Port())
	s := startStack(t, lab, func(o *resolver.Options) {
		o.Local = zones.NewLocal(own, builtin)
		o.Stub = []resolver.ZoneServers{{Zone: "example.com.", Servers: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.53.2.1"), labPort)}}}
		o.Forward = []resolver.ZoneServers{{Zone: "example.org.", Servers: []netip.AddrPort{forwarder.addr}}}
	})
	rootQueries := func() uint64 {
		return lab.QueriesTo(netip.MustParseAddr("127.53.0.1")) + lab.QueriesTo(netip.MustParseAddr("127.53.0.2"))
	}

	before := lab.Queries()
	local := []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
	}{
		{"printer.home.arpa.", dns.TypeA, dns.RcodeSuccess, []string{"printer.home.arpa. 3600 IN A 192.168.1.20"}},
		{"nas.home.arpa.", dns.TypeA, dns.RcodeNameError, nil},
		{"localhost.", dns.TypeAAAA, dns.RcodeSuccess, []string{"localhost. 10800 IN AAAA ::1"}},
		{"anything.invalid.", dns.TypeA, dns.RcodeNameError, nil},
		{"1.1.168.192.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
	}
	for _, c := range local {
		reply := askFull(t, s.addr, c.name, c.qtype)
		if reply.Rcode != c.rcode || !slices.Equal(dnstest.Set(reply.Answer), dnstest.Set(dnstest.RRs(t, c.answer...))) {
			t.Errorf("%s: %s %v, want %s %v", c.name, dns.RcodeToString[reply.Rcode], reply.Answer, dns.RcodeToString[c.rcode], c.answer)
		}
	}
	if n := lab.Queries() - before; n != 0 {
		t.Errorf("local names sent %d queries upstream, want none", n)
	}

	roots := rootQueries()
	reply := askFull(t, s.addr, "www.example.com.", dns.TypeA)
	if len(reply.Answer) != 1 || rootQueries() != roots {
		t.Errorf("stub zone: answer %v, root asked %d times; want the answer from the stub server alone", reply.Answer, rootQueries()-roots)
	}

	reply = askFull(t, s.addr, "alias.example.com.", dns.TypeA)
	want := dnstest.RRs(t, "alias.example.com. 3600 IN CNAME www.example.org.", "www.example.org. 3600 IN CNAME edge.cdnprovider.net.", "edge.cdnprovider.net. 20 IN A 192.0.2.80")
	if !slices.Equal(dnstest.Set(reply.Answer), dnstest.Set(want)) {
		t.Errorf("CNAME from the stub zone into the forward zone: %v", reply.Answer)
	}
	if fs := forwarder.resolver.Stats(); fs.Resolutions == 0 {
		t.Error("the forward zone's resolver was never asked")
	}
}
