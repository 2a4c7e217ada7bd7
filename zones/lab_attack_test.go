package zones

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestLabTransportFaultsOverSockets asks the lab's lossy, TCP-resetting
// and garbling servers over real sockets, in an order that shows each
// fault: every second UDP query lost, TC then a reset, replies that do
// not parse; and their good siblings answer.
func TestLabTransportFaultsOverSockets(t *testing.T) {
	lab := startTestLab(t)
	type outcome int
	const (
		answered outcome = iota
		timedOut
		truncated
		reset
		unparsable
	)
	steps := []struct {
		name    string
		addr    string
		network string
		qname   string
		want    outcome
		answer  string
	}{
		{name: "lossy-only: the first UDP query is lost", addr: "127.53.2.30", network: "udp", qname: "www.lossy-only.com.", want: timedOut},
		{name: "lossy-only: the second is answered", addr: "127.53.2.30", network: "udp", qname: "www.lossy-only.com.",
			answer: "www.lossy-only.com. 3600 IN A 192.0.2.82"},
		{name: "lossy-only: TCP is answered", addr: "127.53.2.30", network: "tcp", qname: "www.lossy-only.com.",
			answer: "www.lossy-only.com. 3600 IN A 192.0.2.82"},
		{name: "lossy-only: the third UDP query is lost", addr: "127.53.2.30", network: "udp", qname: "www.lossy-only.com.", want: timedOut},
		{name: "lossy: its first UDP query is lost", addr: "127.53.2.28", network: "udp", qname: "www.lossy.com.", want: timedOut},
		{name: "lossy: the good sibling answers", addr: "127.53.2.29", network: "udp", qname: "www.lossy.com.",
			answer: "www.lossy.com. 3600 IN A 192.0.2.81"},
		{name: "tcp-reset: TC over UDP", addr: "127.53.2.31", network: "udp", qname: "www.tcp-reset.com.", want: truncated},
		{name: "tcp-reset: reset over TCP", addr: "127.53.2.31", network: "tcp", qname: "www.tcp-reset.com.", want: reset},
		{name: "tcp-reset: the good sibling answers over TCP", addr: "127.53.2.32", network: "tcp", qname: "www.tcp-reset.com.",
			answer: "www.tcp-reset.com. 3600 IN A 192.0.2.83"},
		{name: "tcp-reset-only: reset over TCP", addr: "127.53.2.33", network: "tcp", qname: "www.tcp-reset-only.com.", want: reset},
		{name: "garbage: over UDP", addr: "127.53.2.34", network: "udp", qname: "www.garbage.com.", want: unparsable},
		{name: "garbage: over TCP", addr: "127.53.2.34", network: "tcp", qname: "www.garbage.com.", want: unparsable},
		{name: "garbage: the good sibling answers", addr: "127.53.2.35", network: "udp", qname: "www.garbage.com.",
			answer: "www.garbage.com. 3600 IN A 192.0.2.85"},
		{name: "garbage-only: over UDP", addr: "127.53.2.36", network: "udp", qname: "www.garbage-only.com.", want: unparsable},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			timeout := clientTimeout
			if step.want == timedOut {
				timeout = silentTimeout
			}
			req := withEDNS(query(step.qname, dns.TypeA), 1232, false, 0)
			r, err := exchange(t, lab, step.addr, step.network, req, timeout)
			var netErr net.Error
			switch step.want {
			case timedOut:
				if err == nil || !errors.As(err, &netErr) || !netErr.Timeout() {
					t.Fatalf("exchange = %v, %v; want a timeout", r, err)
				}
			case reset:
				if !isReset(err) {
					t.Fatalf("exchange = %v, %v; want the connection reset", r, err)
				}
			case unparsable:
				// miekg/dns reports a reply it cannot unpack as its own error type.
				var dnsErr *dns.Error
				if !errors.As(err, &dnsErr) {
					t.Fatalf("exchange = %v, %v; want a reply that does not parse", r, err)
				}
			case truncated:
				if err != nil {
					t.Fatal(err)
				}
				if !r.Truncated || len(r.Answer) != 0 {
					t.Errorf("TC %t with %d answers, want TC and none", r.Truncated, len(r.Answer))
				}
			case answered:
				if err != nil {
					t.Fatal(err)
				}
				checkReplyBody(t, req, r, wantReply{aa: true, answer: []string{step.answer}, opt: wantOPT{present: true}})
			}
		})
	}
	if got := lab.QueriesTo(netip.MustParseAddr("127.53.2.30")); got != 4 {
		t.Errorf("lossy-only counted %d queries, want 4, the lost ones included", got)
	}
}

// TestLabGarbageKeepsTheID reads a garbled reply's octets: the query's ID
// and QR set, so that only parsing it can tell it apart.
func TestLabGarbageKeepsTheID(t *testing.T) {
	lab := startTestLab(t)
	ctx := testContext(t)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(netip.MustParseAddr("127.53.2.36"), uint16(lab.Port())).String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := query("www.garbage-only.com.", dns.TypeA)
	req.Id = 0xbeef
	b, err := req.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	deadline, _ := ctx.Deadline()
	if err := conn.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := buf[:n]
	if n < headerLen || got[0] != 0xbe || got[1] != 0xef || got[2]&0x80 == 0 {
		t.Fatalf("reply %x, want ID beef and QR set", got)
	}
	if err := new(dns.Msg).Unpack(got); err == nil {
		t.Errorf("reply %x parses", got)
	}
}

// TestLabForgery asks the forging server from an unconnected socket, which
// reads datagrams from any address: the forged reply comes from the forge
// address on the lab's port, the real one from the server. A connected
// socket, as a resolver uses, gets only the real one.
func TestLabForgery(t *testing.T) {
	lab := startTestLab(t)
	ctx := testContext(t)
	server := netip.AddrPortFrom(netip.MustParseAddr("127.53.2.40"), uint16(lab.Port()))
	forge := netip.AddrPortFrom(netip.MustParseAddr("127.53.3.1"), uint16(lab.Port()))
	var forger netip.AddrPort
	for _, s := range lab.Servers() {
		if s.Addr == server {
			forger = s.ForgeFrom
		}
	}
	if forger != forge {
		t.Fatalf("the lab says %s forges from %q, want %s", server, forger, forge)
	}

	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	req := query("WWW.poison-RACE.org.", dns.TypeA)
	req.Id = 0x4242
	b, err := req.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteTo(b, net.UDPAddrFromAddrPort(server)); err != nil {
		t.Fatal(err)
	}
	deadline, _ := ctx.Deadline()
	if err := pc.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	replies := make(map[netip.AddrPort]*dns.Msg)
	for len(replies) < 2 {
		buf := make([]byte, 1232)
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d replies: %v", len(replies), err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:n]); err != nil {
			t.Fatalf("reply from %s: %v", from, err)
		}
		replies[from.(*net.UDPAddr).AddrPort()] = m
	}
	want := map[netip.AddrPort]string{
		forge:  "WWW.poison-RACE.org. 86400 IN A 192.0.2.66",
		server: "www.poison-race.org. 3600 IN A 192.0.2.91",
	}
	for from, answer := range want {
		m, ok := replies[from]
		if !ok {
			t.Errorf("no reply from %s; got replies from %v", from, keys(replies))
			continue
		}
		checkReplyBody(t, req, m, wantReply{aa: true, answer: []string{answer}})
	}

	c := &dns.Client{Timeout: clientTimeout}
	for range 3 {
		r, _, err := c.ExchangeContext(ctx, query("www.poison-race.org.", dns.TypeA), server.String())
		if err != nil {
			t.Fatal(err)
		}
		checkSection(t, "answer over a connected socket", r.Answer, "www.poison-race.org. 3600 IN A 192.0.2.91")
	}
}

// keys returns the keys of m, for messages.
func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLabForgeAddressTaken: a lab whose forge address is taken on its
// port does not start, and leaves nothing bound.
func TestLabForgeAddressTaken(t *testing.T) {
	ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
	defer cancel()
	var lc net.ListenConfig
	taken, err := lc.ListenPacket(ctx, "udp", "127.53.3.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := taken.LocalAddr().(*net.UDPAddr).Port
	lab, err := StartLab(ctx, LabOptions{Port: port, Logger: testLogger(t)})
	if err == nil {
		_ = lab.Close() // only reached when the test already failed
		t.Fatalf("StartLab on port %d, taken on 127.53.3.1, succeeded", port)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("StartLab on port %d, taken on 127.53.3.1: %v, want EADDRINUSE", port, err)
	}
	if err := taken.Close(); err != nil {
		t.Fatal(err)
	}
	lab, err = StartLab(ctx, LabOptions{Port: port, Logger: testLogger(t)})
	if err != nil {
		t.Skipf("port %d not free again: %v", port, err)
	}
	if err := lab.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestLabForgeAddresses(t *testing.T) {
	// A forger's second address is in the lab's range, belongs to no name
	// and to no server, so that its replies come from an address nobody
	// asked; and every FaultForge server has one.
	addrs := labAddresses(labZoneSet(t))
	for server, forge := range labForgeFrom {
		if labFaults[server] != FaultForge {
			t.Errorf("%s forges from %s, but its fault is %s", server, forge, labFaults[server])
		}
		if !labPrefix.Contains(forge) {
			t.Errorf("%s forges from %s, outside %s", server, forge, labPrefix)
		}
		if _, ok := labFaults[forge]; ok {
			t.Errorf("%s forges from %s, which is in the fault table", server, forge)
		}
		for name, list := range addrs {
			if slices.Contains(list, forge) {
				t.Errorf("%s forges from %s, which is an address of %s", server, forge, name)
			}
		}
	}
	for a, f := range labFaults {
		if _, ok := labForgeFrom[a]; f == FaultForge && !ok {
			t.Errorf("%s has fault %s but no address to forge from", a, f)
		}
	}
}
