package zones

import (
	"errors"
	"net"
	"slices"
	"syscall"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// rawRecorder is a recorder that keeps what a handler writes with Write
// as bytes, parsable or not.
type rawRecorder struct {
	*dnstest.Recorder
	writes [][]byte
}

// Write implements dns.ResponseWriter.
func (r *rawRecorder) Write(b []byte) (int, error) {
	r.writes = append(r.writes, slices.Clone(b))
	return len(b), nil
}

func TestHandlerLossy(t *testing.T) {
	// Over UDP the first, third, ... queries are dropped; over TCP none is,
	// and TCP queries do not count toward the UDP ones.
	h := newTestHandler(t, exampleServes, FaultLossy)
	steps := []struct {
		network string
		reply   bool
	}{
		{"udp", false}, {"udp", true}, {"tcp", true}, {"tcp", true},
		{"udp", false}, {"udp", true}, {"udp", false}, {"tcp", true}, {"udp", true},
	}
	for i, step := range steps {
		w := newRecorder(step.network)
		h.ServeDNS(w, query("www.example.com.", dns.TypeA))
		if got := len(w.Msgs) == 1; got != step.reply || len(w.Msgs) > 1 {
			t.Fatalf("query %d over %s: %d replies, want a reply: %t", i+1, step.network, len(w.Msgs), step.reply)
		}
		if step.reply {
			checkSection(t, "answer", w.Msgs[0].Answer, wwwExampleA)
		}
	}
}

func TestHandlerTCPResetTruncatesUDP(t *testing.T) {
	cases := []struct {
		name string
		req  *dns.Msg
		opt  bool
	}{
		{name: "plain", req: query("www.tcp-reset.com.", dns.TypeA)},
		{name: "EDNS: the OPT stays", req: withEDNS(query("www.tcp-reset.com.", dns.TypeA), 1232, true, 0), opt: true},
		{name: "NXDOMAIN too", req: query("nope.tcp-reset.com.", dns.TypeA)},
		{name: "NS at the apex, glue and all", req: query("tcp-reset.com.", dns.TypeNS)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, []string{"tcp-reset.com."}, FaultTCPReset)
			w := newRecorder("udp")
			h.ServeDNS(w, tc.req)
			if len(w.Msgs) != 1 {
				t.Fatalf("%d replies, want 1", len(w.Msgs))
			}
			m := w.Msgs[0]
			checkReplyHeader(t, tc.req, m)
			if !m.Truncated || len(m.Answer) != 0 || len(m.Ns) != 0 {
				t.Errorf("TC %t, %d answer and %d authority records; want TC and none", m.Truncated, len(m.Answer), len(m.Ns))
			}
			checkOPT(t, m, wantOPT{present: tc.opt, do: tc.opt})
			if len(m.Extra) != len(slices.DeleteFunc(slices.Clone(m.Extra), func(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypeOPT })) {
				t.Errorf("additional section %v, want the OPT at most", m.Extra)
			}
		})
	}
}

func TestGarble(t *testing.T) {
	withRecords := func(m *dns.Msg, rrs ...string) *dns.Msg {
		m.Response, m.Authoritative = true, true
		m.Answer = dnstest.RRs(t, rrs...)
		return m
	}
	cases := []struct {
		name string
		msg  *dns.Msg
	}{
		{name: "answer", msg: withRecords(query("www.example.com.", dns.TypeA), wwwExampleA)},
		{name: "answer with compression", msg: withRecords(query("example.com.", dns.TypeNS),
			"example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.com.")},
		{name: "only the OPT, whose owner is the root", msg: withEDNS(query("www.example.com.", dns.TypeA), 1232, false, 0)},
		{name: "question only", msg: query("www.example.com.", dns.TypeA)},
		{name: "question for the root only", msg: query(".", dns.TypeNS)},
		{name: "header only", msg: &dns.Msg{MsgHdr: dns.MsgHdr{Id: 7, Response: true, Rcode: dns.RcodeFormatError}}},
		{name: "extended rcode BADVERS, in the OPT", msg: func() *dns.Msg {
			m := withEDNS(query("www.example.com.", dns.TypeA), 1232, false, 0)
			m.Response, m.Rcode = true, dns.RcodeBadVers
			return m
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.msg.Id = 4343
			tc.msg.Compress = true
			full, err := tc.msg.Pack()
			if err != nil {
				t.Fatal(err)
			}
			b, err := garble(tc.msg)
			if err != nil {
				t.Fatalf("garble: %v", err)
			}
			if len(b) >= len(full) || len(b) < 2 || !slices.Equal(b, full[:len(b)]) {
				t.Errorf("garbled %x, want a strict prefix of %x", b, full)
			}
			if len(b) >= headerLen && (b[0] != full[0] || b[1] != full[1]) {
				t.Errorf("ID octets %x, want %x", b[:2], full[:2])
			}
			if err := new(dns.Msg).Unpack(b); err == nil {
				t.Errorf("garbled %x parses", b)
			}
		})
	}
}

func TestHandlerGarbage(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			h := newTestHandler(t, exampleServes, FaultGarbage)
			w := &rawRecorder{Recorder: newRecorder(network)}
			req := withEDNS(query("www.example.com.", dns.TypeA), 1232, false, 0)
			req.Id = 4343
			h.ServeDNS(w, req)
			if len(w.Msgs) != 0 || len(w.writes) != 1 {
				t.Fatalf("%d messages and %d raw writes, want one raw write", len(w.Msgs), len(w.writes))
			}
			b := w.writes[0]
			var dh struct{ id, flags uint16 }
			if len(b) >= headerLen {
				dh.id, dh.flags = uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3])
			}
			if dh.id != req.Id || dh.flags&(1<<15) == 0 {
				t.Errorf("ID %d, QR %t; want ID %d and QR", dh.id, dh.flags&(1<<15) != 0, req.Id)
			}
			m := new(dns.Msg)
			if err := m.Unpack(b); err == nil {
				t.Errorf("reply %v parses, want it garbled", m)
			}
		})
	}
}

func TestResetConn(t *testing.T) {
	// The server side of a resetListener's connection turns its first
	// write into an RST: the client reads "connection reset".
	ctx := testContext(t)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.53.255.3:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	rl := resetListener{ln}
	t.Cleanup(func() {
		if err := rl.Close(); err != nil {
			t.Errorf("close listener: %v", err)
		}
	})
	var d net.Dialer
	client, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer client.Close()
	server, err := rl.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if _, err := server.Write([]byte("reply")); err == nil {
		t.Error("write on a reset connection succeeded")
	}
	deadline, _ := ctx.Deadline()
	if err := client.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	n, err := client.Read(make([]byte, 16))
	if !isReset(err) {
		t.Errorf("client read %d octets, %v; want connection reset", n, err)
	}
}

// isReset reports whether err says the peer reset the connection.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
