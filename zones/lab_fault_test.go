package zones

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestLabFaultTable(t *testing.T) {
	// Every fault but FaultNone has at least one lab server, so a resolver
	// can be tested against each of them.
	for f := FaultRefuse; f <= FaultForge; f++ {
		t.Run(f.String(), func(t *testing.T) {
			var addrs []netip.Addr
			for a, got := range labFaults {
				if got == f {
					addrs = append(addrs, a)
				}
			}
			if len(addrs) == 0 {
				t.Errorf("no lab server has fault %s", f)
			}
		})
	}
	if got := labFaults[labIPv6]; got != FaultSilent {
		t.Errorf("fault at %s = %s, want silent", labIPv6, got)
	}
	for a, f := range labFaults {
		if f == FaultNone {
			t.Errorf("%s listed with fault none", a)
		}
	}
}

// nxnsReferral is com.'s referral for nxns.com.: 20 glueless NS records.
func nxnsReferral() []string {
	out := make([]string, 0, 20)
	for i := 1; i <= 20; i++ {
		out = append(out, fmt.Sprintf("nxns.com. 172800 IN NS ns%02d.victim.org.", i))
	}
	return out
}

func TestLabFaultsOverSockets(t *testing.T) {
	lab := startTestLab(t)
	const (
		brokenSOA = brokenENTSOA
		orgSOA    = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2026112701 7200 3600 1209600 300"
		victimSOA = "victim.org. 300 IN SOA ns1.victim.org. hostmaster.victim.org. 2026112701 7200 3600 1209600 300"
	)
	edns := func(m *dns.Msg) *dns.Msg { return withEDNS(m, 1232, false, 0) }
	cases := []struct {
		name       string
		addr       string
		network    string
		req        *dns.Msg
		timeout    bool   // no reply is expected
		question   string // the question name echoed; "" means exactly as asked
		rcode      int
		aa         bool
		answer     []string
		authority  []string
		additional []string
		opt        wantOPT
	}{
		{
			name: "nocase lower-cases a mixed-case question", addr: "127.53.2.18", req: query("WwW.NoCaSe.NeT.", dns.TypeA),
			question: "www.nocase.net.", aa: true, answer: []string{"www.nocase.net. 3600 IN A 192.0.2.71"},
		},
		{
			name: "nocase over TCP", addr: "127.53.2.18", network: "tcp", req: query("wWw.nOcAsE.nEt.", dns.TypeA),
			question: "www.nocase.net.", aa: true, answer: []string{"www.nocase.net. 3600 IN A 192.0.2.71"},
		},
		{
			name: "edns-formerr: FORMERR without OPT for EDNS", addr: "127.53.2.19", req: edns(query("www.edns-formerr.org.", dns.TypeA)),
			rcode: dns.RcodeFormatError,
		},
		{
			name: "edns-formerr: FORMERR over TCP", addr: "127.53.2.19", network: "tcp",
			req: edns(query("www.edns-formerr.org.", dns.TypeA)), rcode: dns.RcodeFormatError,
		},
		{
			name: "edns-formerr: plain query answered", addr: "127.53.2.19", req: query("www.edns-formerr.org.", dns.TypeA),
			aa: true, answer: []string{"www.edns-formerr.org. 3600 IN A 192.0.2.72"},
		},
		{
			name: "edns-drop: EDNS query times out", addr: "127.53.2.20", req: edns(query("www.edns-drop.org.", dns.TypeA)),
			timeout: true,
		},
		{
			name: "edns-drop: EDNS query over TCP times out", addr: "127.53.2.20", network: "tcp",
			req: edns(query("www.edns-drop.org.", dns.TypeA)), timeout: true,
		},
		{
			name: "edns-drop: plain query answered", addr: "127.53.2.20", req: query("www.edns-drop.org.", dns.TypeA),
			aa: true, answer: []string{"www.edns-drop.org. 3600 IN A 192.0.2.73"},
		},
		{
			name: "upward: referral to the root", addr: "127.53.2.21", req: query("www.upward.com.", dns.TypeA),
			authority: []string{upwardRootNS}, additional: []string{upwardRootGlue},
		},
		{
			name: "upward: over TCP with EDNS", addr: "127.53.2.21", network: "tcp", req: edns(query("upward.com.", dns.TypeNS)),
			authority: []string{upwardRootNS}, additional: []string{upwardRootGlue}, opt: wantOPT{present: true},
		},
		{
			name: "upward: the good sibling answers", addr: "127.53.2.22", req: query("www.upward.com.", dns.TypeA),
			aa: true, answer: []string{"www.upward.com. 3600 IN A 192.0.2.74"},
		},
		{
			name: "noaa: empty NOERROR without AA", addr: "127.53.2.23", req: query("www.noaa.com.", dns.TypeA),
		},
		{
			name: "noaa: the good sibling answers", addr: "127.53.2.24", req: query("www.noaa.com.", dns.TypeA),
			aa: true, answer: []string{"www.noaa.com. 3600 IN A 192.0.2.75"},
		},
		{
			name: "ent-nxdomain: NXDOMAIN for c.brokenent.net", addr: "127.53.2.25", req: query("c.brokenent.net.", dns.TypeA),
			rcode: dns.RcodeNameError, aa: true, authority: []string{brokenSOA},
		},
		{
			name: "ent-nxdomain: NXDOMAIN for b.c.brokenent.net", addr: "127.53.2.25", req: query("b.c.brokenent.net.", dns.TypeA),
			rcode: dns.RcodeNameError, aa: true, authority: []string{brokenSOA},
		},
		{
			name: "ent-nxdomain: the A for a.b.c.brokenent.net", addr: "127.53.2.25", req: query("a.b.c.brokenent.net.", dns.TypeA),
			aa: true, answer: []string{"a.b.c.brokenent.net. 3600 IN A 192.0.2.76"},
		},
		{
			name: "NXNS: com. refers nxns.com. to 20 glueless servers", addr: "127.53.1.1", req: query("www.nxns.com.", dns.TypeA),
			authority: nxnsReferral(),
		},
		{
			name: "NXNS: a victim name server name is NXDOMAIN", addr: "127.53.2.26", req: query("ns07.victim.org.", dns.TypeA),
			rcode: dns.RcodeNameError, aa: true, authority: []string{victimSOA},
		},
		{
			name: "NXNS: the victim answers for its own names", addr: "127.53.2.26", req: query("www.victim.org.", dns.TypeA),
			aa: true, answer: []string{"www.victim.org. 3600 IN A 192.0.2.78"},
		},
		{
			name: "v6broken: com. gives A and AAAA glue", addr: "127.53.1.2", req: query("www.v6broken.com.", dns.TypeA),
			authority:  []string{"v6broken.com. 172800 IN NS ns1.v6broken.com."},
			additional: []string{"ns1.v6broken.com. 172800 IN A 127.53.2.27", "ns1.v6broken.com. 172800 IN AAAA ::1"},
		},
		{
			name: "v6broken: the IPv4 server answers", addr: "127.53.2.27", req: query("www.v6broken.com.", dns.TypeA),
			aa: true, answer: []string{"www.v6broken.com. 3600 IN A 192.0.2.80"},
		},
		{
			name: "deep name answered", addr: "127.53.2.6", req: query("A.b.C.d.E.f.G.example.org.", dns.TypeA),
			aa: true, answer: []string{"a.b.c.d.e.f.g.example.org. 3600 IN A 192.0.2.79"},
		},
		{
			name: "deep name's top empty non-terminal is NODATA", addr: "127.53.2.6", req: query("g.example.org.", dns.TypeA),
			aa: true, authority: []string{orgSOA},
		},
		{
			name: "deep name's lowest empty non-terminal is NODATA over TCP", addr: "127.53.2.6", network: "tcp",
			req: query("b.c.d.e.f.g.example.org.", dns.TypeNS), aa: true, authority: []string{orgSOA},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			network := tc.network
			if network == "" {
				network = "udp"
			}
			timeout := clientTimeout
			if tc.timeout {
				timeout = silentTimeout
			}
			r, err := exchange(t, lab, tc.addr, network, tc.req, timeout)
			if tc.timeout {
				var netErr net.Error
				if err == nil || !errors.As(err, &netErr) || !netErr.Timeout() {
					t.Fatalf("exchange = %v, %v; want a timeout", r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("exchange with %s over %s: %v", tc.addr, network, err)
			}
			checkReplyBody(t, tc.req, r, wantReply{question: tc.question, rcode: tc.rcode, aa: tc.aa,
				answer: tc.answer, authority: tc.authority, additional: tc.additional, opt: tc.opt})
		})
	}
}

func TestLabSlowServer(t *testing.T) {
	lab := startTestLab(t)
	cases := []struct {
		name    string
		addr    string
		network string
		slow    bool
	}{
		{name: "slow over UDP", addr: "127.53.2.17", network: "udp", slow: true},
		{name: "slow over TCP", addr: "127.53.2.17", network: "tcp", slow: true},
		{name: "healthy sibling over UDP", addr: "127.53.2.16", network: "udp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r, err := exchange(t, lab, tc.addr, tc.network, query("www.fast-slow.com.", dns.TypeA), clientTimeout)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tc.slow && elapsed < slowDelay {
				t.Errorf("answered after %v, want at least %v", elapsed, slowDelay)
			}
			if !r.Authoritative || r.Rcode != dns.RcodeSuccess {
				t.Errorf("rcode %s AA %t, want NOERROR AA", dns.RcodeToString[r.Rcode], r.Authoritative)
			}
			checkSection(t, "answer", r.Answer, "www.fast-slow.com. 3600 IN A 192.0.2.70")
		})
	}
}

// TestSlowServerShutdown sends a query to a slow server and shuts the
// server down while it holds the reply: Shutdown must return at once, the
// reply must never be sent, and no goroutine may be left (TestMain checks).
func TestSlowServerShutdown(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			ctx := testContext(t)
			log, holding := noticeLogger(t, "holding the reply")
			s := startFreeServer(t, "127.53.255.2", ServerOptions{
				Zones: []*Zone{labZone(t, "example.com.")}, Fault: FaultSlow, Logger: log,
			})
			c := &dns.Client{Net: network, Timeout: clientTimeout}
			conn, err := c.DialContext(ctx, s.Addr().String())
			if err != nil {
				t.Fatalf("dial %s: %v", s.Addr(), err)
			}
			type result struct {
				r   *dns.Msg
				err error
			}
			got := make(chan result, 1)
			go func() {
				r, _, err := c.ExchangeWithConnContext(ctx, query("www.example.com.", dns.TypeA), conn)
				got <- result{r, err}
			}()
			select {
			case <-holding:
			case <-ctx.Done():
				t.Fatalf("the server never held a reply: %v", ctx.Err())
			}
			start := time.Now()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if elapsed := time.Since(start); elapsed >= slowDelay {
				t.Errorf("Shutdown took %v, want well under %v", elapsed, slowDelay)
			}
			// The client waits for a reply that never comes: closing its
			// socket ends the wait.
			closeErr := conn.Close()
			res := <-got
			if res.err == nil {
				t.Errorf("client got %v after Shutdown, want no reply", res.r)
			}
			if closeErr != nil && !errors.Is(closeErr, net.ErrClosed) {
				t.Errorf("close client: %v", closeErr)
			}
		})
	}
}

// labHasIPv6 reports whether the lab bound its IPv6 server.
func labHasIPv6(lab *Lab) bool {
	return slices.ContainsFunc(lab.Servers(), func(s LabServer) bool { return s.Addr.Addr() == labIPv6 })
}

func TestLabIPv6Silent(t *testing.T) {
	lab := startTestLab(t)
	if !labHasIPv6(lab) {
		t.Skipf("the lab has no server on %s: no IPv6 on this machine", labIPv6)
	}
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			before := lab.Queries()
			r, err := exchange(t, lab, labIPv6.String(), network, query("www.v6broken.com.", dns.TypeA), silentTimeout)
			var netErr net.Error
			if err == nil || !errors.As(err, &netErr) || !netErr.Timeout() {
				t.Fatalf("exchange with [%s] = %v, %v; want a timeout, not a refusal", labIPv6, r, err)
			}
			if got := lab.Queries() - before; got != 1 {
				t.Errorf("the IPv6 server counted %d queries, want 1", got)
			}
		})
	}
}

func TestLabIPv6PortTaken(t *testing.T) {
	// A port taken on ::1 is not "no IPv6": StartLab fails as for any
	// other taken port, and leaves nothing running.
	taken, err := net.ListenPacket("udp", net.JoinHostPort(labIPv6.String(), "0"))
	if err != nil {
		t.Skipf("cannot bind %s: %v", labIPv6, err)
	}
	port := taken.LocalAddr().(*net.UDPAddr).Port
	lab, err := StartLab(testContext(t), LabOptions{Port: port, Logger: testLogger(t)})
	if err == nil {
		_ = lab.Close() // only reached when the test already failed
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("StartLab on port %d, taken on %s: %v, want EADDRINUSE", port, labIPv6, err)
	}
	if err := taken.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	lab, err = StartLab(testContext(t), LabOptions{Port: port, Logger: testLogger(t)})
	if err != nil {
		// Another process may have taken the port meanwhile; all that
		// matters is that the failed start released what it had bound.
		if errors.Is(err, syscall.EADDRINUSE) {
			t.Skipf("port %d taken again: %v", port, err)
		}
		t.Fatalf("StartLab on the released port %d: %v", port, err)
	}
	if err := lab.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestNoIPv6(t *testing.T) {
	bindErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "listen", Net: "udp", Err: os.NewSyscallError("bind", errno)}
	}
	cases := []struct {
		name string
		addr netip.Addr
		err  error
		want bool
	}{
		{name: "address not available", addr: labIPv6, err: bindErr(syscall.EADDRNOTAVAIL), want: true},
		{name: "family not supported", addr: labIPv6, err: bindErr(syscall.EAFNOSUPPORT), want: true},
		{name: "protocol not supported", addr: labIPv6, err: bindErr(syscall.EPROTONOSUPPORT), want: true},
		{name: "port taken", addr: labIPv6, err: bindErr(syscall.EADDRINUSE)},
		{name: "canceled", addr: labIPv6, err: context.Canceled},
		{name: "IPv4 address not available", addr: netip.MustParseAddr("127.53.0.1"), err: bindErr(syscall.EADDRNOTAVAIL)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := noIPv6(tc.addr, tc.err); got != tc.want {
				t.Errorf("noIPv6(%s, %v) = %t, want %t", tc.addr, tc.err, got, tc.want)
			}
		})
	}
}

func TestLabOutage(t *testing.T) {
	lab := startTestLab(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.53.2.1"), uint16(lab.Port())) // ns1.example.com
	ask := func() error {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		c := &dns.Client{Timeout: 300 * time.Millisecond}
		_, _, err := c.Exchange(q, addr.String())
		return err
	}
	if n := lab.SetDown("Example.COM", true); n != 2 {
		t.Errorf("%d servers taken down for example.com, want its 2", n)
	}
	before := lab.QueriesTo(addr.Addr())
	if err := ask(); err == nil {
		t.Error("answered during the outage")
	}
	if lab.QueriesTo(addr.Addr()) != before+1 {
		t.Error("query during the outage not counted")
	}
	lab.SetDown("example.com.", false)
	if err := ask(); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

func TestLabLoss(t *testing.T) {
	lab, err := StartLab(testContext(t), LabOptions{Loss: 0.25, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Error(err)
		}
	})
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.53.2.1"), uint16(lab.Port())) // ns1.example.com
	lost := 0
	for range 8 {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		c := &dns.Client{Timeout: 200 * time.Millisecond}
		if _, _, err := c.Exchange(q, addr.String()); err != nil {
			lost++
		}
	}
	if lost != 2 {
		t.Errorf("%d of 8 UDP queries lost with a loss of 0.25, want every 4th: 2", lost)
	}
	tcp := &dns.Client{Net: "tcp", Timeout: time.Second}
	for range 4 {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		if _, _, err := tcp.Exchange(q, addr.String()); err != nil {
			t.Errorf("over TCP: %v, want no loss", err)
		}
	}
	if _, err := StartLab(testContext(t), LabOptions{Loss: 0.6}); err == nil {
		t.Error("a loss of 0.6 accepted")
	}
}
