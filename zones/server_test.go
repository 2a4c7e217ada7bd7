package zones

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// clientTimeout bounds each exchange with a lab server; silentTimeout is
// the shorter one used against servers that never answer.
const (
	clientTimeout = 5 * time.Second
	silentTimeout = 300 * time.Millisecond
)

// exchange sends m to the lab server at addr over network and returns the reply.
func exchange(t *testing.T, lab *Lab, addr, network string, m *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	t.Helper()
	server := netip.AddrPortFrom(netip.MustParseAddr(addr), uint16(lab.Port())).String()
	c := &dns.Client{Net: network, Timeout: timeout}
	ctx, cancel := context.WithTimeout(testContext(t), timeout)
	defer cancel()
	r, _, err := c.ExchangeContext(ctx, m, server)
	return r, err
}

func TestLabOverSockets(t *testing.T) {
	lab := startTestLab(t)
	cases := []struct {
		name    string
		addr    string
		network string
		req     *dns.Msg
		rcode   int
		aa      bool
		tc      bool
		answers int // -1: do not check
		opt     wantOPT
	}{
		{name: "root referral", addr: "127.53.0.1", req: query("www.example.com.", dns.TypeA)},
		{name: "authoritative answer", addr: "127.53.2.1", req: query("www.example.com.", dns.TypeA), aa: true, answers: 1},
		{name: "second server, TCP", addr: "127.53.2.2", network: "tcp", req: query("www.example.com.", dns.TypeAAAA), aa: true, answers: 1},
		{name: "REFUSED outside its zones", addr: "127.53.2.1", req: query("www.example.net.", dns.TypeA), rcode: dns.RcodeRefused},
		{
			name: "REFUSED for CHAOS", addr: "127.53.0.1", rcode: dns.RcodeRefused,
			req: withClass(query("version.bind.", dns.TypeTXT), dns.ClassCHAOS),
		},
		{
			name: "NOTIMP for opcode STATUS", addr: "127.53.0.1", rcode: dns.RcodeNotImplemented,
			req: withOpcode(query(".", dns.TypeSOA), dns.OpcodeStatus),
		},
		{
			name: "FORMERR for no question", addr: "127.53.0.1", rcode: dns.RcodeFormatError,
			req: withQuestions(query(".", dns.TypeSOA)),
		},
		{
			name: "FORMERR for two questions", addr: "127.53.0.1", rcode: dns.RcodeFormatError,
			req: withQuestions(query(".", dns.TypeSOA), rootSOAQuestion, rootSOAQuestion),
		},
		{
			name: "UDP without EDNS truncates", addr: "127.53.2.1", req: query("big.example.com.", dns.TypeTXT),
			aa: true, tc: true, answers: -1,
		},
		{
			name: "UDP with EDNS truncates", addr: "127.53.2.2", req: withEDNS(query("big.example.com.", dns.TypeTXT), 1232, false, 0),
			aa: true, tc: true, answers: -1, opt: wantOPT{present: true},
		},
		{
			name: "TCP gives the full answer", addr: "127.53.2.1", network: "tcp", req: query("big.example.com.", dns.TypeTXT),
			aa: true, answers: 40,
		},
		{
			name: "TCP with EDNS gives the full answer", addr: "127.53.2.1", network: "tcp",
			req: withEDNS(query("big.example.com.", dns.TypeTXT), 1232, true, 0),
			aa:  true, answers: 41, opt: wantOPT{present: true, do: true}, // 40 TXT and their RRSIG (DO)
		},
		{
			name: "EDNS echoed", addr: "127.53.1.1", req: withEDNS(query("example.com.", dns.TypeNS), 4096, true, 0),
			answers: 0, opt: wantOPT{present: true, do: true},
		},
		{
			name: "BADVERS", addr: "127.53.1.1", req: withEDNS(query("example.com.", dns.TypeNS), 4096, false, 1),
			rcode: dns.RcodeBadVers, opt: wantOPT{present: true},
		},
		{name: "lame server refuses", addr: "127.53.2.8", req: query("www.partly-lame.com.", dns.TypeA), rcode: dns.RcodeRefused},
		{name: "lame server refuses over TCP", addr: "127.53.2.12", network: "tcp", req: query("www.lame.com.", dns.TypeA), rcode: dns.RcodeRefused},
		{name: "good server beside the lame one", addr: "127.53.2.9", req: query("www.partly-lame.com.", dns.TypeA), aa: true, answers: 1},
		{name: "good server beside the dead one", addr: "127.53.2.11", req: query("www.partly-dead.com.", dns.TypeA), aa: true, answers: 1},
		{name: "cycle server", addr: "127.53.2.15", req: query("www.cycle-a.com.", dns.TypeA), aa: true, answers: 1},
		{
			name: "case preserved in the question", addr: "127.53.2.1", req: query("WwW.ExAmPlE.CoM.", dns.TypeA),
			aa: true, answers: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			network := tc.network
			if network == "" {
				network = "udp"
			}
			r, err := exchange(t, lab, tc.addr, network, tc.req, clientTimeout)
			if err != nil {
				t.Fatalf("exchange with %s over %s: %v", tc.addr, network, err)
			}
			if r.Id != tc.req.Id || !r.Response {
				t.Errorf("reply ID %d QR %t, want ID %d QR true", r.Id, r.Response, tc.req.Id)
			}
			if len(tc.req.Question) == 1 && (len(r.Question) != 1 || r.Question[0] != tc.req.Question[0]) {
				t.Errorf("question %v, want %v echoed exactly", r.Question, tc.req.Question)
			}
			if r.Rcode != tc.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			if r.Authoritative != tc.aa || r.Truncated != tc.tc {
				t.Errorf("AA %t TC %t, want AA %t TC %t", r.Authoritative, r.Truncated, tc.aa, tc.tc)
			}
			if tc.answers >= 0 && len(r.Answer) != tc.answers {
				t.Errorf("%d answers, want %d", len(r.Answer), tc.answers)
			}
			checkOPT(t, r, tc.opt)
		})
	}
}

func TestLabSilentServers(t *testing.T) {
	lab := startTestLab(t)
	cases := []struct {
		name    string
		addr    string
		network string
		req     *dns.Msg
	}{
		{name: "partly-dead over UDP", addr: "127.53.2.10", network: "udp", req: query("www.partly-dead.com.", dns.TypeA)},
		{name: "dead over UDP", addr: "127.53.2.13", network: "udp", req: query("www.dead.com.", dns.TypeA)},
		{name: "dead over TCP", addr: "127.53.2.13", network: "tcp", req: query("www.dead.com.", dns.TypeA)},
		{
			name: "bad opcode over UDP", addr: "127.53.2.10", network: "udp",
			req: withOpcode(query("x.", dns.TypeA), dns.OpcodeUpdate),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := lab.Queries()
			r, err := exchange(t, lab, tc.addr, tc.network, tc.req, silentTimeout)
			var netErr net.Error
			if err == nil || !errors.As(err, &netErr) || !netErr.Timeout() {
				t.Fatalf("exchange = %v, %v; want a timeout", r, err)
			}
			if got := lab.Queries() - before; got != 1 {
				t.Errorf("silent server counted %d queries, want 1", got)
			}
		})
	}
}

func TestLabQueryCounter(t *testing.T) {
	lab := startTestLab(t)
	if got := lab.Queries(); got != 0 {
		t.Fatalf("fresh lab counted %d queries, want 0", got)
	}
	cases := []struct {
		addr    string
		network string
	}{
		{"127.53.0.1", "udp"}, {"127.53.0.2", "tcp"}, {"127.53.1.1", "udp"}, {"127.53.2.8", "udp"}, {"127.53.2.7", "tcp"},
	}
	for i, tc := range cases {
		t.Run(tc.addr+"/"+tc.network, func(t *testing.T) {
			if _, err := exchange(t, lab, tc.addr, tc.network, query("example.com.", dns.TypeNS), clientTimeout); err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if got, want := lab.Queries(), uint64(i+1); got != want {
				t.Errorf("Queries() = %d, want %d", got, want)
			}
		})
	}
}

func TestLabDescription(t *testing.T) {
	lab := startTestLab(t)
	if lab.Port() < labPortMin || lab.Port() > labPortMax {
		t.Errorf("Port() = %d, want it in [%d, %d]", lab.Port(), labPortMin, labPortMax)
	}
	servers := lab.Servers()
	plan, err := labPlan(labZoneSet(t))
	if err != nil {
		t.Fatalf("labPlan: %v", err)
	}
	if !labHasIPv6(lab) {
		// No IPv6 on this machine: the lab went on without its [::1] server.
		t.Logf("no server on %s; comparing the IPv4 servers only", labIPv6)
		plan = slices.DeleteFunc(plan, func(o ServerOptions) bool { return o.Addr.Addr().Is6() })
	}
	if len(servers) != len(plan) {
		t.Fatalf("%d servers, want %d", len(servers), len(plan))
	}
	for i, s := range servers {
		p := plan[i]
		var want []string
		for _, z := range p.Zones {
			want = append(want, z.Origin())
		}
		slices.Sort(want)
		if s.Addr != netip.AddrPortFrom(p.Addr.Addr(), uint16(lab.Port())) || s.Fault != p.Fault || !slices.Equal(s.Zones, want) {
			t.Errorf("server %d = %+v, want %s:%d %v %s", i, s, p.Addr.Addr(), lab.Port(), want, p.Fault)
		}
	}
	checkHints(t, lab.Hints())
	if !strings.Contains(lab.Hints(), "port "+strconv.Itoa(lab.Port())) {
		t.Errorf("hints do not name port %d:\n%s", lab.Port(), lab.Hints())
	}
}

func TestLabCloseReleasesPorts(t *testing.T) {
	ctx := testContext(t)
	first, err := StartLab(ctx, LabOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartLab: %v", err)
	}
	port := first.Port()
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	second, err := StartLab(ctx, LabOptions{Port: port, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartLab on the released port %d: %v", port, err)
	}
	defer func() {
		if err := second.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if second.Port() != port {
		t.Errorf("Port() = %d, want %d", second.Port(), port)
	}
	// A third lab on the same port finds it taken and cleans up after itself.
	if third, err := StartLab(ctx, LabOptions{Port: port}); !errors.Is(err, syscall.EADDRINUSE) {
		if third != nil {
			_ = third.Close() // only reached when the test already failed
		}
		t.Errorf("StartLab on a taken port = %v, want EADDRINUSE", err)
	}
	if _, err := exchange(t, second, "127.53.0.1", "udp", query(".", dns.TypeSOA), clientTimeout); err != nil {
		t.Errorf("second lab does not answer after the failed third start: %v", err)
	}
}

func TestStartLabErrors(t *testing.T) {
	canceled, cancel := context.WithCancel(testContext(t))
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		opts LabOptions
	}{
		{name: "negative port", ctx: testContext(t), opts: LabOptions{Port: -1}},
		{name: "port too large", ctx: testContext(t), opts: LabOptions{Port: 70000}},
		{name: "canceled context", ctx: canceled, opts: LabOptions{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab, err := StartLab(tc.ctx, tc.opts)
			if err == nil {
				_ = lab.Close() // only reached when the test already failed
				t.Fatalf("StartLab succeeded, want an error")
			}
		})
	}
}

func TestStartServer(t *testing.T) {
	ctx := testContext(t)
	z := labZone(t, "example.com.")
	s := startFreeServer(t, "127.53.255.1", ServerOptions{Zones: []*Zone{z}, Logger: testLogger(t)})
	addr := s.Addr()
	if s.Addr() != addr || !slices.Equal(s.Zones(), []string{"example.com."}) || s.Fault() != FaultNone {
		t.Errorf("server %s %v %s, want %s [example.com.] none", s.Addr(), s.Zones(), s.Fault(), addr)
	}
	c := &dns.Client{Timeout: clientTimeout}
	r, _, err := c.ExchangeContext(ctx, query("www.example.com.", dns.TypeA), addr.String())
	if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("exchange = %v, %v; want one answer", r, err)
	}
	if s.Queries() != 1 {
		t.Errorf("Queries() = %d, want 1", s.Queries())
	}

	cases := []struct {
		name string
		opts ServerOptions
		want error
	}{
		{name: "address in use", opts: ServerOptions{Addr: addr}, want: syscall.EADDRINUSE},
		{name: "unspecified address", opts: ServerOptions{Addr: netip.MustParseAddrPort("0.0.0.0:10053")}},
		{name: "port 0", opts: ServerOptions{Addr: netip.MustParseAddrPort("127.53.255.1:0")}},
		{name: "no address", opts: ServerOptions{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			other, err := StartServer(ctx, tc.opts)
			if err == nil {
				_ = other.Shutdown(ctx) // only reached when the test already failed
				t.Fatalf("StartServer(%s) succeeded, want an error", tc.opts.Addr)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("StartServer error = %v, want %v", err, tc.want)
			}
		})
	}
}
