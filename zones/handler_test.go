package zones

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// Origins served by the lab's root servers and by ns1.example.com.
var (
	rootServes    = []string{".", "arpa.", "root-servers.net."}
	exampleServes = []string{"53.127.in-addr.arpa.", "example.com."}
)

// newTestHandler returns a handler for the given lab zones.
func newTestHandler(t *testing.T, origins []string, fault Fault) *Handler {
	t.Helper()
	var zs []*Zone
	for _, o := range origins {
		zs = append(zs, labZone(t, o))
	}
	h, err := NewHandler(HandlerOptions{Zones: zs, Fault: fault, Name: "test", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

// withEDNS adds an OPT record to m.
func withEDNS(m *dns.Msg, size uint16, do bool, version uint8) *dns.Msg {
	m.SetEdns0(size, do)
	m.IsEdns0().SetVersion(version)
	return m
}

// wantOPT describes the OPT record a reply should carry.
type wantOPT struct {
	present bool
	do      bool
}

func TestHandler(t *testing.T) {
	bigEDNS := func(size uint16) *dns.Msg {
		return withEDNS(query("big.example.com.", dns.TypeTXT), size, false, 0)
	}
	cases := []struct {
		name     string
		serves   []string
		fault    Fault
		network  string
		req      *dns.Msg
		rcode    int
		aa       bool
		tc       bool
		answers  int
		opt      wantOPT
		question bool // the question is echoed
		check    func(t *testing.T, m *dns.Msg)
	}{
		{
			name: "deepest zone answers", serves: rootServes, req: query("a.root-servers.net.", dns.TypeA),
			aa: true, answers: 1, question: true,
			check: func(t *testing.T, m *dns.Msg) {
				checkSection(t, "answer", m.Answer, "a.root-servers.net. 3600 IN A 127.53.0.1")
			},
		},
		{
			name: "referral from the root", serves: rootServes, req: query("www.example.com.", dns.TypeA),
			question: true,
			check: func(t *testing.T, m *dns.Msg) {
				checkSection(t, "authority", m.Ns, "com. 172800 IN NS a.gtld-servers.net.", "com. 172800 IN NS b.gtld-servers.net.")
			},
		},
		{
			name: "glueless referral from arpa", serves: rootServes, req: query("1.0.53.127.in-addr.arpa.", dns.TypePTR),
			question: true,
			check: func(t *testing.T, m *dns.Msg) {
				checkSection(t, "authority", m.Ns,
					"53.127.in-addr.arpa. 172800 IN NS ns1.example.com.", "53.127.in-addr.arpa. 172800 IN NS ns2.example.com.")
				checkSection(t, "additional", m.Extra)
			},
		},
		{
			name: "second zone on one server", serves: exampleServes, req: query("1.2.53.127.in-addr.arpa.", dns.TypePTR),
			aa: true, answers: 1, question: true,
		},
		{
			name: "DS at a child apex comes from the parent", serves: rootServes, req: query("arpa.", dns.TypeDS),
			aa: true, question: true, answers: 1,
			check: func(t *testing.T, m *dns.Msg) {
				// The lab signs arpa.: its DS, made afresh each run, is in the root.
				if ds, ok := m.Answer[0].(*dns.DS); !ok || ds.Hdr.Name != "arpa." {
					t.Errorf("answer %v, want arpa.'s DS", m.Answer)
				}
			},
		},
		{
			name: "DS at an apex without the parent", serves: exampleServes, req: query("example.com.", dns.TypeDS),
			aa: true, question: true,
			check: func(t *testing.T, m *dns.Msg) { checkSection(t, "authority", m.Ns, exampleSOA) },
		},
		{
			name: "NXDOMAIN", serves: exampleServes, req: query("nope.example.com.", dns.TypeA),
			rcode: dns.RcodeNameError, aa: true, question: true,
		},
		{
			name: "class ANY is served", serves: exampleServes,
			req: withClass(query("www.example.com.", dns.TypeA), dns.ClassANY),
			aa:  true, answers: 1, question: true,
		},
		{
			name: "outside every zone is REFUSED", serves: exampleServes, req: query("www.example.net.", dns.TypeA),
			rcode: dns.RcodeRefused, question: true,
		},
		{
			name: "CHAOS class is REFUSED", serves: rootServes,
			req:   withClass(query("version.bind.", dns.TypeTXT), dns.ClassCHAOS),
			rcode: dns.RcodeRefused, question: true,
		},
		{
			name: "AXFR is REFUSED", serves: exampleServes, req: query("example.com.", dns.TypeAXFR),
			rcode: dns.RcodeRefused, question: true,
		},
		{
			name: "no zones at all", req: query("www.example.com.", dns.TypeA),
			rcode: dns.RcodeRefused, question: true,
		},
		{
			name: "opcode STATUS is NOTIMP", serves: exampleServes,
			req:   withOpcode(query("example.com.", dns.TypeSOA), dns.OpcodeStatus),
			rcode: dns.RcodeNotImplemented, question: true,
		},
		{
			name: "opcode UPDATE is NOTIMP", serves: exampleServes,
			req:   withOpcode(query("example.com.", dns.TypeSOA), dns.OpcodeUpdate),
			rcode: dns.RcodeNotImplemented, question: true,
		},
		{
			name: "no question is FORMERR", serves: exampleServes,
			req:   withQuestions(query("example.com.", dns.TypeSOA)),
			rcode: dns.RcodeFormatError,
		},
		{
			name: "two questions is FORMERR", serves: exampleServes,
			req:   withQuestions(query("example.com.", dns.TypeSOA), dns.Question{Name: "example.com.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}, dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}),
			rcode: dns.RcodeFormatError,
		},
		{
			name: "two OPT records is FORMERR", serves: exampleServes,
			req: func() *dns.Msg {
				m := withEDNS(query("example.com.", dns.TypeSOA), 1232, false, 0)
				m.Extra = append(m.Extra, dns.Copy(m.Extra[0]))
				return m
			}(),
			rcode: dns.RcodeFormatError, question: true,
		},
		{
			// The signed zone adds the A RRset's RRSIG for a DO query.
			name: "EDNS echoed with DO", serves: exampleServes, req: withEDNS(query("www.example.com.", dns.TypeA), 4096, true, 0),
			aa: true, answers: 2, opt: wantOPT{present: true, do: true}, question: true,
		},
		{
			name: "EDNS version 1 is BADVERS", serves: exampleServes, req: withEDNS(query("www.example.com.", dns.TypeA), 4096, false, 1),
			rcode: dns.RcodeBadVers, opt: wantOPT{present: true}, question: true,
		},
		{
			name: "no EDNS, no OPT", serves: exampleServes, req: query("www.example.com.", dns.TypeA),
			aa: true, answers: 1, question: true,
		},
		{
			name: "lame server refuses", serves: exampleServes, fault: FaultRefuse, req: query("www.example.com.", dns.TypeA),
			rcode: dns.RcodeRefused, question: true,
		},
		{
			name: "UDP without EDNS truncates to 512", serves: exampleServes, req: query("big.example.com.", dns.TypeTXT),
			aa: true, tc: true, answers: -1, question: true,
		},
		{
			name: "UDP with EDNS 1232 truncates", serves: exampleServes, req: bigEDNS(1232),
			aa: true, tc: true, answers: -1, opt: wantOPT{present: true}, question: true,
		},
		{
			name: "UDP with EDNS below 512 gets 512", serves: exampleServes, req: bigEDNS(100),
			aa: true, tc: true, answers: -1, opt: wantOPT{present: true}, question: true,
		},
		{
			name: "UDP with EDNS 4096 fits", serves: exampleServes, req: bigEDNS(4096),
			aa: true, answers: 40, opt: wantOPT{present: true}, question: true,
		},
		{
			name: "TCP gets the full answer", serves: exampleServes, network: "tcp", req: query("big.example.com.", dns.TypeTXT),
			aa: true, answers: 40, question: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, tc.serves, tc.fault)
			tc.req.Id = 4242
			tc.req.RecursionDesired = true
			w := newRecorder(tc.network)
			h.ServeDNS(w, tc.req)
			if len(w.Msgs) != 1 {
				t.Fatalf("handler wrote %d messages, want 1", len(w.Msgs))
			}
			m := w.Msgs[0]
			checkReplyHeader(t, tc.req, m)
			if m.Rcode != tc.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode])
			}
			if m.Authoritative != tc.aa || m.Truncated != tc.tc {
				t.Errorf("AA %t TC %t, want AA %t TC %t", m.Authoritative, m.Truncated, tc.aa, tc.tc)
			}
			if tc.answers >= 0 && len(m.Answer) != tc.answers {
				t.Errorf("%d answers, want %d", len(m.Answer), tc.answers)
			}
			if got := len(m.Question) == 1 && m.Question[0] == tc.req.Question[0]; got != tc.question {
				t.Errorf("question echoed: %t, want %t (got %v)", got, tc.question, m.Question)
			}
			checkOPT(t, m, tc.opt)
			checkSize(t, w.Raw[0], tc.req, tc.network)
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// checkReplyHeader checks what every reply echoes from its query.
func checkReplyHeader(t *testing.T, req, m *dns.Msg) {
	t.Helper()
	if !m.Response || m.Id != req.Id || m.Opcode != req.Opcode || m.RecursionDesired != req.RecursionDesired {
		t.Errorf("reply header QR %t ID %d opcode %d RD %t, want QR true ID %d opcode %d RD %t",
			m.Response, m.Id, m.Opcode, m.RecursionDesired, req.Id, req.Opcode, req.RecursionDesired)
	}
	if m.RecursionAvailable {
		t.Errorf("RA set by an authoritative server")
	}
	if !m.Compress {
		t.Errorf("reply not compressed")
	}
}

// checkOPT checks the reply's OPT record.
func checkOPT(t *testing.T, m *dns.Msg, want wantOPT) {
	t.Helper()
	opt := m.IsEdns0()
	if (opt != nil) != want.present {
		t.Fatalf("OPT present: %t, want %t", opt != nil, want.present)
	}
	if opt == nil {
		return
	}
	if opt.Version() != 0 || opt.UDPSize() != ednsBufferSize || opt.Do() != want.do {
		t.Errorf("OPT version %d size %d DO %t, want version 0 size %d DO %t",
			opt.Version(), opt.UDPSize(), opt.Do(), ednsBufferSize, want.do)
	}
}

// checkSize checks a packed UDP reply fits the client's limit.
func checkSize(t *testing.T, raw []byte, req *dns.Msg, network string) {
	t.Helper()
	if network == "tcp" {
		return
	}
	limit := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		limit = max(limit, int(opt.UDPSize()))
	}
	if len(raw) > limit {
		t.Errorf("UDP reply is %d octets, over the client's limit %d", len(raw), limit)
	}
}

func TestHandlerSilent(t *testing.T) {
	cases := []struct {
		name  string
		fault Fault
		req   *dns.Msg
	}{
		{name: "silent fault", fault: FaultSilent, req: query("www.example.com.", dns.TypeA)},
		{name: "silent fault, bad opcode", fault: FaultSilent,
			req: withOpcode(query("x.", dns.TypeA), dns.OpcodeUpdate)},
		{name: "a response is never answered", fault: FaultNone,
			req: asResponse(query("www.example.com.", dns.TypeA))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, exampleServes, tc.fault)
			w := newRecorder("udp")
			h.ServeDNS(w, tc.req)
			if len(w.Raw) != 0 {
				t.Errorf("handler wrote %d messages, want none", len(w.Raw))
			}
		})
	}
}

// panicRemote is a recorder whose RemoteAddr panics, to reach the handler's recover.
type panicRemote struct{ *dnstest.Recorder }

func (panicRemote) RemoteAddr() net.Addr { panic("boom") }

func TestHandlerRecoversFromPanic(t *testing.T) {
	var logs bytes.Buffer
	h, err := NewHandler(HandlerOptions{Zones: []*Zone{labZone(t, "example.com.")}, Name: "test",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	w := panicRemote{newRecorder("udp")}
	h.ServeDNS(w, query("www.example.com.", dns.TypeA))
	if len(w.Msgs) != 1 || w.Msgs[0].Rcode != dns.RcodeServerFailure {
		t.Fatalf("got %v, want one SERVFAIL", w.Msgs)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("log = %q, want an ERROR line with the panic", logs.String())
	}
}

func TestNewHandlerErrors(t *testing.T) {
	z := labZone(t, "example.com.")
	cases := []struct {
		name  string
		zones []*Zone
	}{
		{name: "same zone twice", zones: []*Zone{z, z}},
		{name: "nil zone", zones: []*Zone{nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := NewHandler(HandlerOptions{Zones: tc.zones}); err == nil {
				t.Errorf("NewHandler = %v, want an error", h)
			}
		})
	}
}
