package zones

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// packetRecorder is a net.PacketConn that keeps what is written to it,
// standing in for a forger's socket.
type packetRecorder struct {
	net.PacketConn // nil: only WriteTo is called
	mu             sync.Mutex
	packets        [][]byte
	to             []net.Addr
}

// WriteTo implements net.PacketConn.
func (p *packetRecorder) WriteTo(b []byte, addr net.Addr) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.packets = append(p.packets, slices.Clone(b))
	p.to = append(p.to, addr)
	return len(b), nil
}

func TestNewHandlerForgeNeedsASocket(t *testing.T) {
	_, err := NewHandler(HandlerOptions{Zones: []*Zone{labZone(t, "poison-race.org.")}, Fault: FaultForge, Name: "test"})
	if err == nil {
		t.Error("NewHandler with FaultForge and no forger socket succeeded")
	}
}

func TestHandlerForge(t *testing.T) {
	const real = "www.poison-race.org. 3600 IN A 192.0.2.91"
	cases := []struct {
		name    string
		network string
		req     *dns.Msg
		forged  string // the forged answer; "" for no forgery
		real    []string
	}{
		{name: "A over UDP: forged, then real", network: "udp", req: query("WwW.PoIsOn-RaCe.OrG.", dns.TypeA),
			forged: "WwW.PoIsOn-RaCe.OrG. 86400 IN A 192.0.2.66", real: []string{real}},
		{name: "AAAA over UDP: a forged AAAA, then the real NODATA", network: "udp", req: query("www.poison-race.org.", dns.TypeAAAA),
			forged: "www.poison-race.org. 86400 IN AAAA 2001:db8::66"},
		{name: "MX over UDP: a forged A all the same", network: "udp", req: query("www.poison-race.org.", dns.TypeMX),
			forged: "www.poison-race.org. 86400 IN A 192.0.2.66"},
		{name: "TCP: nothing forged", network: "tcp", req: query("www.poison-race.org.", dns.TypeA), real: []string{real}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forger := &packetRecorder{}
			h, err := NewHandler(HandlerOptions{Zones: []*Zone{labZone(t, "poison-race.org.")}, Fault: FaultForge,
				Name: "test", Logger: testLogger(t), Forger: forger})
			if err != nil {
				t.Fatal(err)
			}
			tc.req.Id = 4343
			tc.req.RecursionDesired = true
			w := newRecorder(tc.network)
			h.ServeDNS(w, tc.req)
			if len(w.Msgs) != 1 {
				t.Fatalf("%d real replies, want 1", len(w.Msgs))
			}
			checkReplyHeader(t, tc.req, w.Msgs[0])
			checkSection(t, "real answer", w.Msgs[0].Answer, tc.real...)
			if tc.forged == "" {
				if len(forger.packets) != 0 {
					t.Errorf("%d forged replies over %s, want none", len(forger.packets), tc.network)
				}
				return
			}
			if len(forger.packets) != 1 {
				t.Fatalf("%d forged replies, want 1", len(forger.packets))
			}
			if got, want := forger.to[0].String(), w.RemoteAddr().String(); got != want {
				t.Errorf("forged reply sent to %s, want the querier %s", got, want)
			}
			m := new(dns.Msg)
			if err := m.Unpack(forger.packets[0]); err != nil {
				t.Fatalf("forged reply does not parse: %v", err)
			}
			if m.Id != tc.req.Id || !m.Response || !m.RecursionDesired || m.RecursionAvailable {
				t.Errorf("forged header ID %d QR %t RD %t RA %t, want ID %d QR RD, not RA", m.Id, m.Response,
					m.RecursionDesired, m.RecursionAvailable, tc.req.Id)
			}
			checkReplyBody(t, tc.req, m, wantReply{aa: true, answer: []string{tc.forged}})
		})
	}
}

func TestForgedReplyKeepsEDNS(t *testing.T) {
	req := withEDNS(query("www.poison-race.org.", dns.TypeA), 4096, true, 0)
	m := forgedReply(req)
	checkOPT(t, m, wantOPT{present: true, do: true})
	if forgedReply(withQuestions(query(".", dns.TypeNS))) != nil {
		t.Error("forged a reply to a query without a question")
	}
}

func TestNewServerForgeAddress(t *testing.T) {
	addr := netip.MustParseAddrPort("127.53.255.4:20000")
	other := netip.MustParseAddr("127.53.255.5")
	cases := []struct {
		name  string
		fault Fault
		forge netip.Addr
		ok    bool
	}{
		{name: "forge with another address", fault: FaultForge, forge: other, ok: true},
		{name: "forge without one", fault: FaultForge},
		{name: "forge from its own address", fault: FaultForge, forge: addr.Addr()},
		{name: "forge from the unspecified address", fault: FaultForge, forge: netip.IPv4Unspecified()},
		{name: "a forge address for another fault", fault: FaultNone, forge: other},
		{name: "no fault, no forge address", fault: FaultNone, ok: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newServer(ServerOptions{Addr: addr, Fault: tc.fault, ForgeFrom: tc.forge})
			if (err == nil) != tc.ok {
				t.Fatalf("newServer = %v, want success: %t", err, tc.ok)
			}
			if tc.ok && tc.forge.IsValid() && s.ForgeFrom() != netip.AddrPortFrom(other, addr.Port()) {
				t.Errorf("ForgeFrom() = %s, want %s on the server's port", s.ForgeFrom(), other)
			}
		})
	}
}
