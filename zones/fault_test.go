package zones

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/miekg/dns"
)

func TestFaultString(t *testing.T) {
	cases := []struct {
		f    Fault
		want string
	}{
		{FaultNone, "none"},
		{FaultRefuse, "refuse"},
		{FaultSilent, "silent"},
		{FaultSlow, "slow"},
		{FaultNoCase, "nocase"},
		{FaultEDNSFormErr, "edns-formerr"},
		{FaultEDNSDrop, "edns-drop"},
		{FaultUpward, "upward"},
		{FaultNoAA, "noaa"},
		{FaultENTNXDOMAIN, "ent-nxdomain"},
		{FaultLossy, "lossy"},
		{FaultTCPReset, "tcp-reset"},
		{FaultGarbage, "garbage"},
		{FaultOutOfBailiwick, "out-of-bailiwick"},
		{FaultParentClaim, "parent-claim"},
		{FaultForge, "forge"},
		{FaultBadCookie, "bad-cookie"},
		{Fault(17), "fault(17)"},
		{Fault(-1), "fault(-1)"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.f.String(); got != tc.want {
				t.Errorf("Fault(%d).String() = %q, want %q", int(tc.f), got, tc.want)
			}
		})
	}
}

func TestFaultServesZones(t *testing.T) {
	cases := []struct {
		f    Fault
		want bool
	}{
		{FaultNone, true}, {FaultRefuse, false}, {FaultSilent, false}, {FaultSlow, true},
		{FaultNoCase, true}, {FaultEDNSFormErr, true}, {FaultEDNSDrop, true}, {FaultUpward, true},
		{FaultNoAA, true}, {FaultENTNXDOMAIN, true}, {FaultLossy, true}, {FaultTCPReset, true},
		{FaultGarbage, true}, {FaultOutOfBailiwick, true}, {FaultParentClaim, true}, {FaultForge, true},
	}
	for _, tc := range cases {
		t.Run(tc.f.String(), func(t *testing.T) {
			if got := tc.f.servesZones(); got != tc.want {
				t.Errorf("%s.servesZones() = %t, want %t", tc.f, got, tc.want)
			}
		})
	}
}

// Sections of the replies the fault tests expect.
const (
	oobBogusA        = "www.example.com. 86400 IN A 192.0.2.66"
	oobBogusAAAA     = "www.example.com. 86400 IN AAAA 2001:db8::66"
	oobBogusNS       = "example.com. 86400 IN NS ns1.poison-oob.org."
	oobBogusGlue     = "ns1.example.com. 86400 IN A 127.53.2.37"
	parentBogusDNAME = "org. 86400 IN DNAME poison-parent.org."
	parentBogusNS    = "org. 86400 IN NS ns1.poison-parent.org."
	wwwExampleA      = "www.example.com. 3600 IN A 192.0.2.10"
	upwardRootNS     = ". 518400 IN NS a.root-servers.net."
	upwardRootGlue   = "a.root-servers.net. 172800 IN A 127.53.0.1"
	brokenENTSOA     = "brokenent.net. 300 IN SOA ns1.brokenent.net. hostmaster.brokenent.net. 2026112701 7200 3600 1209600 300"
)

// The attackers' zones, as the handler tests serve them.
var (
	poisonOOBServes    = []string{"poison-oob.org."}
	poisonParentServes = []string{"poison-parent.org."}
)

func TestHandlerFaults(t *testing.T) {
	edns := func(m *dns.Msg) *dns.Msg { return withEDNS(m, 1232, false, 0) }
	cases := []struct {
		name       string
		serves     []string
		fault      Fault
		network    string
		req        *dns.Msg
		noReply    bool   // the handler writes nothing
		question   string // the question name echoed; "" means exactly as asked
		rcode      int
		aa         bool
		answer     []string
		authority  []string
		additional []string
		opt        wantOPT
	}{
		{
			name: "nocase lower-cases the echoed question", serves: exampleServes, fault: FaultNoCase,
			req: query("WwW.ExAmPlE.CoM.", dns.TypeA), question: "www.example.com.",
			aa: true, answer: []string{wwwExampleA},
		},
		{
			name: "nocase over TCP", serves: exampleServes, fault: FaultNoCase, network: "tcp",
			req: query("WWW.EXAMPLE.COM.", dns.TypeA), question: "www.example.com.",
			aa: true, answer: []string{wwwExampleA},
		},
		{
			name: "nocase lower-cases a wildcard's owner", serves: exampleServes, fault: FaultNoCase,
			req: query("X.Wild.Example.COM.", dns.TypeA), question: "x.wild.example.com.",
			aa: true, answer: []string{"x.wild.example.com. 3600 IN A 192.0.2.99"},
		},
		{
			name: "nocase with EDNS keeps the OPT", serves: exampleServes, fault: FaultNoCase,
			req: withEDNS(query("wWw.example.com.", dns.TypeA), 1232, false, 0), question: "www.example.com.",
			aa: true, answer: []string{wwwExampleA}, opt: wantOPT{present: true},
		},
		{
			name: "nocase leaves a lower-case question alone", serves: exampleServes, fault: FaultNoCase,
			req: query("www.example.com.", dns.TypeA), aa: true, answer: []string{wwwExampleA},
		},
		{
			name: "edns-formerr: FORMERR without OPT for EDNS", serves: exampleServes, fault: FaultEDNSFormErr,
			req: edns(query("www.example.com.", dns.TypeA)), rcode: dns.RcodeFormatError,
		},
		{
			name: "edns-formerr: FORMERR for EDNS with DO over TCP", serves: exampleServes, fault: FaultEDNSFormErr,
			network: "tcp", req: withEDNS(query("www.example.com.", dns.TypeA), 4096, true, 0), rcode: dns.RcodeFormatError,
		},
		{
			name: "edns-formerr: FORMERR for EDNS version 1, not BADVERS", serves: exampleServes, fault: FaultEDNSFormErr,
			req: withEDNS(query("www.example.com.", dns.TypeA), 1232, false, 1), rcode: dns.RcodeFormatError,
		},
		{
			name: "edns-formerr: plain query answered", serves: exampleServes, fault: FaultEDNSFormErr,
			req: query("www.example.com.", dns.TypeA), aa: true, answer: []string{wwwExampleA},
		},
		{
			name: "edns-drop: no reply for EDNS", serves: exampleServes, fault: FaultEDNSDrop,
			req: edns(query("www.example.com.", dns.TypeA)), noReply: true,
		},
		{
			name: "edns-drop: no reply for EDNS over TCP", serves: exampleServes, fault: FaultEDNSDrop, network: "tcp",
			req: edns(query("www.example.com.", dns.TypeA)), noReply: true,
		},
		{
			name: "edns-drop: plain query answered", serves: exampleServes, fault: FaultEDNSDrop,
			req: query("www.example.com.", dns.TypeA), aa: true, answer: []string{wwwExampleA},
		},
		{
			name: "upward: referral to the root for a name it serves", serves: exampleServes, fault: FaultUpward,
			req: query("www.example.com.", dns.TypeA), authority: []string{upwardRootNS}, additional: []string{upwardRootGlue},
		},
		{
			name: "upward: referral to the root for a name it does not serve", serves: exampleServes, fault: FaultUpward,
			req: query("www.example.net.", dns.TypeA), authority: []string{upwardRootNS}, additional: []string{upwardRootGlue},
		},
		{
			name: "upward: OPT echoed", serves: exampleServes, fault: FaultUpward,
			req:       withEDNS(query("example.com.", dns.TypeSOA), 1232, true, 0),
			authority: []string{upwardRootNS}, additional: []string{upwardRootGlue}, opt: wantOPT{present: true, do: true},
		},
		{
			name: "upward: still NOTIMP for opcode STATUS", serves: exampleServes, fault: FaultUpward,
			req: withOpcode(query("example.com.", dns.TypeSOA), dns.OpcodeStatus), rcode: dns.RcodeNotImplemented,
		},
		{
			name: "noaa: empty NOERROR without AA", serves: exampleServes, fault: FaultNoAA,
			req: query("www.example.com.", dns.TypeA),
		},
		{
			name: "noaa: empty NOERROR for a name that does not exist", serves: exampleServes, fault: FaultNoAA,
			req: query("nope.example.com.", dns.TypeA),
		},
		{
			name: "ent-nxdomain: NXDOMAIN for an empty non-terminal", serves: []string{"brokenent.net."}, fault: FaultENTNXDOMAIN,
			req: query("c.brokenent.net.", dns.TypeA), rcode: dns.RcodeNameError, aa: true, authority: []string{brokenENTSOA},
		},
		{
			name: "ent-nxdomain: NXDOMAIN for the deeper one, any type", serves: []string{"brokenent.net."}, fault: FaultENTNXDOMAIN,
			req: query("B.c.brokenent.net.", dns.TypeNS), rcode: dns.RcodeNameError, aa: true, authority: []string{brokenENTSOA},
		},
		{
			name: "ent-nxdomain: the name below answered", serves: []string{"brokenent.net."}, fault: FaultENTNXDOMAIN,
			req: query("a.b.c.brokenent.net.", dns.TypeA), aa: true, answer: []string{"a.b.c.brokenent.net. 3600 IN A 192.0.2.76"},
		},
		{
			name: "ent-nxdomain: NODATA at a name with data stays NODATA", serves: []string{"brokenent.net."}, fault: FaultENTNXDOMAIN,
			req: query("a.b.c.brokenent.net.", dns.TypeAAAA), aa: true, authority: []string{brokenENTSOA},
		},
		{
			name: "ent-nxdomain: a name that does not exist", serves: []string{"brokenent.net."}, fault: FaultENTNXDOMAIN,
			req: query("d.brokenent.net.", dns.TypeA), rcode: dns.RcodeNameError, aa: true, authority: []string{brokenENTSOA},
		},
		{
			name: "ent-nxdomain: the wildcard's parent in example.com", serves: exampleServes, fault: FaultENTNXDOMAIN,
			req: query("wild.example.com.", dns.TypeA), rcode: dns.RcodeNameError, aa: true, authority: []string{exampleSOA},
		},
		{
			name: "out-of-bailiwick: bogus addresses where the CNAME leads, NS and glue for example.com", serves: poisonOOBServes,
			fault: FaultOutOfBailiwick, req: query("www.poison-oob.org.", dns.TypeA), aa: true,
			answer:    []string{"www.poison-oob.org. 3600 IN CNAME www.example.com.", oobBogusA, oobBogusAAAA},
			authority: []string{oobBogusNS}, additional: []string{oobBogusGlue},
		},
		{
			name: "out-of-bailiwick: NXDOMAIN carries them too, over TCP", serves: poisonOOBServes, fault: FaultOutOfBailiwick,
			network: "tcp", req: query("nope.poison-oob.org.", dns.TypeA), rcode: dns.RcodeNameError, aa: true,
			answer:     []string{oobBogusA, oobBogusAAAA},
			authority:  []string{"poison-oob.org. 300 IN SOA ns1.poison-oob.org. hostmaster.poison-oob.org. 2026112701 7200 3600 1209600 300", oobBogusNS},
			additional: []string{oobBogusGlue},
		},
		{
			name: "out-of-bailiwick: REFUSED outside its zones, with nothing added", serves: poisonOOBServes, fault: FaultOutOfBailiwick,
			req: query("www.example.com.", dns.TypeA), rcode: dns.RcodeRefused,
		},
		{
			name: "parent-claim: a DNAME for org. ahead of the data, org. NS naming itself", serves: poisonParentServes,
			fault: FaultParentClaim, req: query("www.poison-parent.org.", dns.TypeA), aa: true,
			answer:    []string{parentBogusDNAME, "www.poison-parent.org. 3600 IN A 192.0.2.88"},
			authority: []string{parentBogusNS}, additional: []string{"ns1.poison-parent.org. 86400 IN A 127.53.2.38"},
		},
		{
			name: "parent-claim: the apex NS answer keeps the zone's own glue once", serves: poisonParentServes,
			fault: FaultParentClaim, req: query("poison-parent.org.", dns.TypeNS), aa: true,
			answer:    []string{parentBogusDNAME, "poison-parent.org. 3600 IN NS ns1.poison-parent.org."},
			authority: []string{parentBogusNS}, additional: []string{"ns1.poison-parent.org. 3600 IN A 127.53.2.38"},
		},
		{
			name: "tcp-reset: answers over TCP (its listener resets the connection)", serves: []string{"tcp-reset.com."},
			fault: FaultTCPReset, network: "tcp", req: query("www.tcp-reset.com.", dns.TypeA), aa: true,
			answer: []string{"www.tcp-reset.com. 3600 IN A 192.0.2.83"},
		},
		{
			name: "tcp-reset: REFUSED over UDP is not truncated", serves: []string{"tcp-reset.com."},
			fault: FaultTCPReset, req: query("www.example.com.", dns.TypeA), rcode: dns.RcodeRefused,
		},
		{
			name: "ent-nxdomain: a glue-only name below a cut is still a referral", serves: rootServes, fault: FaultENTNXDOMAIN,
			req:        query("gtld-servers.net.", dns.TypeA),
			authority:  []string{"net. 172800 IN NS a.gtld-servers.net.", "net. 172800 IN NS b.gtld-servers.net."},
			additional: []string{"a.gtld-servers.net. 172800 IN A 127.53.1.1", "b.gtld-servers.net. 172800 IN A 127.53.1.2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, tc.serves, tc.fault)
			tc.req.Id = 4343
			w := newRecorder(tc.network)
			h.ServeDNS(w, tc.req)
			if tc.noReply {
				if len(w.Msgs) != 0 {
					t.Fatalf("handler wrote %v, want nothing", w.Msgs)
				}
				return
			}
			if len(w.Msgs) != 1 {
				t.Fatalf("handler wrote %d messages, want 1", len(w.Msgs))
			}
			m := w.Msgs[0]
			checkReplyHeader(t, tc.req, m)
			checkReplyBody(t, tc.req, m, wantReply{question: tc.question, rcode: tc.rcode, aa: tc.aa,
				answer: tc.answer, authority: tc.authority, additional: tc.additional, opt: tc.opt})
		})
	}
}

func TestHandlerNoCaseLeavesQueryAlone(t *testing.T) {
	h := newTestHandler(t, exampleServes, FaultNoCase)
	req := query("WwW.ExAmPlE.CoM.", dns.TypeA)
	h.ServeDNS(newRecorder("udp"), req)
	if got, want := req.Question[0].Name, "WwW.ExAmPlE.CoM."; got != want {
		t.Errorf("query's question changed to %q, want %q", got, want)
	}
}

// TestHandlerSlow runs a FaultSlow handler in a synctest bubble, whose
// fake clock shows the exact delay without waiting for it.
func TestHandlerSlow(t *testing.T) {
	cases := []struct {
		name    string
		network string
		stop    string // "": never; "before": before the query; "during": while the reply is held
		reply   bool
		elapsed time.Duration
	}{
		{name: "UDP reply held", network: "udp", reply: true, elapsed: slowDelay},
		{name: "TCP reply held", network: "tcp", reply: true, elapsed: slowDelay},
		{name: "stopped while holding", network: "udp", stop: "during"},
		{name: "stopped while holding over TCP", network: "tcp", stop: "during"},
		{name: "stopped before the query", network: "udp", stop: "before"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newTestHandler(t, exampleServes, FaultSlow)
				if tc.stop == "before" {
					h.Stop()
				}
				w := newRecorder(tc.network)
				start := time.Now()
				done := make(chan struct{})
				go func() {
					defer close(done)
					h.ServeDNS(w, query("www.example.com.", dns.TypeA))
				}()
				if tc.stop == "during" {
					synctest.Wait() // the handler is holding its reply
					h.Stop()
					h.Stop() // a second Stop is harmless
				}
				<-done
				if got := time.Since(start); got != tc.elapsed {
					t.Errorf("ServeDNS took %v, want %v", got, tc.elapsed)
				}
				if got := len(w.Msgs) == 1; got != tc.reply || len(w.Msgs) > 1 {
					t.Fatalf("handler wrote %d messages, want a reply: %t", len(w.Msgs), tc.reply)
				}
				if tc.reply {
					checkSection(t, "answer", w.Msgs[0].Answer, wwwExampleA)
				}
			})
		})
	}
}

func TestHandlerStopOtherFaults(t *testing.T) {
	// Stop only ends the waits of FaultSlow: other handlers go on answering.
	for _, f := range []Fault{FaultNone, FaultNoCase, FaultENTNXDOMAIN} {
		t.Run(f.String(), func(t *testing.T) {
			h := newTestHandler(t, exampleServes, f)
			h.Stop()
			w := newRecorder("udp")
			h.ServeDNS(w, query("www.example.com.", dns.TypeA))
			if len(w.Msgs) != 1 {
				t.Fatalf("stopped %s handler wrote %d messages, want 1", f, len(w.Msgs))
			}
		})
	}
}

func TestUpwardReferralMatchesLabRoot(t *testing.T) {
	// The upward referral is the lab root's own data: its first apex NS
	// record and that name server's glue.
	root := labZone(t, ".")
	ns := root.NS()
	if len(ns) == 0 || ns[0].Ns != upwardNS || ns[0].Hdr.Ttl != upwardNSTTL {
		t.Fatalf("root apex NS %v, want %s first with TTL %d", ns, upwardNS, upwardNSTTL)
	}
	m := new(dns.Msg)
	upwardReferral(m)
	checkSection(t, "authority", m.Ns, ns[0].String())
	glue := root.RRset(upwardNS, dns.TypeA)
	checkSection(t, "additional", m.Extra, rrText(glue)...)
}
