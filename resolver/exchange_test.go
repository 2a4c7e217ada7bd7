package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/internal/tcpconns"
)

// startServer runs h on 127.0.0.1 over UDP and TCP on one free port and
// stops it when the test ends.
func startServer(t *testing.T, h dns.HandlerFunc) netip.AddrPort {
	t.Helper()
	return startServerWith(t, h, nil)
}

// startServerWith is startServer with the TCP listener passed through
// wrap, when it is not nil.
func startServerWith(t *testing.T, h dns.HandlerFunc, wrap func(net.Listener) net.Listener) netip.AddrPort {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
		ln, err := net.Listen("tcp", addr.String())
		if err != nil {
			pc.Close()
			continue
		}
		if wrap != nil {
			ln = wrap(ln)
		}
		for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
			started := make(chan struct{})
			srv.NotifyStartedFunc = func() { close(started) }
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = srv.ActivateAndServe() // returns when shut down
			}()
			<-started
			t.Cleanup(func() {
				_ = srv.Shutdown() // the test is over; nothing to report
				<-done
			})
		}
		return addr
	}
	t.Fatal("no free port for UDP and TCP")
	return netip.AddrPort{}
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(ednsBufferSize, false)
	return m
}

func TestNetExchangerFallsBackToTCP(t *testing.T) {
	addr := startServer(t, func(w dns.ResponseWriter, req *dns.Msg) {
		reply := new(dns.Msg)
		reply.SetReply(req)
		for i := range 60 {
			rr, _ := dns.NewRR("big.test. 60 IN TXT \"" + strings.Repeat("x", 50) + string(rune('a'+i%26)) + "\"")
			reply.Answer = append(reply.Answer, rr)
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			reply.Truncate(ednsBufferSize)
		}
		_ = w.WriteMsg(reply)
	})
	resp, err := NetExchanger{}.Exchange(t.Context(), query("big.test.", dns.TypeTXT), addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.TCP || resp.Msg.Truncated || len(resp.Msg.Answer) != 60 {
		t.Errorf("TCP %v, truncated %v, %d records; want the full answer over TCP", resp.TCP, resp.Msg.Truncated, len(resp.Msg.Answer))
	}
}

func TestNetExchangerRejectsMismatches(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(*dns.Msg)
	}{
		{"other question", func(m *dns.Msg) { m.Question[0].Name = "evil.test." }},
		{"other type", func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeMX }},
		{"no question", func(m *dns.Msg) { m.Question = nil }},
		{"not a response", func(m *dns.Msg) { m.Response = false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := startServer(t, func(w dns.ResponseWriter, req *dns.Msg) {
				reply := new(dns.Msg)
				reply.SetReply(req)
				tc.mangle(reply)
				_ = w.WriteMsg(reply)
			})
			_, err := NetExchanger{}.Exchange(t.Context(), query("www.test.", dns.TypeA), addr, 2*time.Second)
			if !errors.Is(err, ErrBadReply) {
				t.Errorf("error %v, want %v", err, ErrBadReply)
			}
		})
	}
}

func TestNetExchangerIgnoresCaseOfEchoedName(t *testing.T) {
	addr := startServer(t, func(w dns.ResponseWriter, req *dns.Msg) {
		reply := new(dns.Msg)
		reply.SetReply(req)
		reply.Question[0].Name = strings.ToUpper(reply.Question[0].Name)
		_ = w.WriteMsg(reply)
	})
	if _, err := (NetExchanger{}).Exchange(t.Context(), query("www.test.", dns.TypeA), addr, 2*time.Second); err != nil {
		t.Errorf("reply with the name in another case rejected: %v", err)
	}
}

func TestNetExchangerTimesOut(t *testing.T) {
	addr := startServer(t, func(dns.ResponseWriter, *dns.Msg) {}) // never answers
	start := time.Now()
	_, err := NetExchanger{}.Exchange(t.Context(), query("www.test.", dns.TypeA), addr, 100*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v, want %v", err, ErrTimeout)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v for a 100ms timeout", took)
	}
}

func TestNetExchangerStopsWhenCallerGivesUp(t *testing.T) {
	addr := startServer(t, func(dns.ResponseWriter, *dns.Msg) {})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := NetExchanger{}.Exchange(ctx, query("www.test.", dns.TypeA), addr, time.Minute)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		// Not a timeout: the server is not to blame when the caller gives up.
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Errorf("error %v after cancel, want context.Canceled and not %v", err, ErrTimeout)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("exchange still blocked 10s after its context was cancelled")
	}
}

func TestHints(t *testing.T) {
	iana, err := IANAHints()
	if err != nil {
		t.Fatal(err)
	}
	if len(iana) != 13 {
		t.Errorf("%d IANA root servers, want 13", len(iana))
	}
	for _, s := range iana {
		var v4, v6 int
		for _, a := range s.Addrs {
			if a.Is4() {
				v4++
			} else {
				v6++
			}
		}
		if v4 != 1 || v6 != 1 {
			t.Errorf("%s has %d IPv4 and %d IPv6 addresses, want one of each", s.Name, v4, v6)
		}
	}

	bad := []struct{ name, text string }{
		{"empty", ""},
		{"no address", ".  3600000 NS a.root.test.\n"},
		{"NS below the root", "test. 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n"},
		{"syntax error", ". 3600000 NS\n"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := ParseHints(strings.NewReader(tc.text), "test"); err == nil {
				t.Errorf("ParseHints accepted %q as %v", tc.text, h)
			}
		})
	}
	h, err := ParseHints(strings.NewReader(". 3600000 NS a.root.test.\n. 3600000 NS b.root.test.\na.root.test. 3600000 A 127.0.0.1\n"), "test")
	if err != nil || len(h) != 1 || h[0].Addrs[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("ParseHints with one addressless server: %v, %v; want the one with an address", h, err)
	}
}

func TestNetExchangerIgnoresRepliesFromOtherAddresses(t *testing.T) {
	forger, err := net.ListenPacket("udp", "127.0.0.99:0")
	if err != nil {
		t.Skipf("cannot bind 127.0.0.99: %v", err)
	}
	defer forger.Close()
	addr := startServer(t, func(w dns.ResponseWriter, req *dns.Msg) {
		// A forged reply, right ID and question, from another address,
		// arrives first; then the real one.
		forged := new(dns.Msg)
		forged.SetReply(req)
		forged.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 6, 6, 6)}}
		if b, err := forged.Pack(); err == nil {
			_, _ = forger.WriteTo(b, w.RemoteAddr()) // best effort: the test checks what the client took
		}
		genuine := new(dns.Msg)
		genuine.SetReply(req)
		genuine.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 7)}}
		_ = w.WriteMsg(genuine)
	})
	resp, err := NetExchanger{}.Exchange(t.Context(), query("www.test.", dns.TypeA), addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Msg.Answer[0].(*dns.A).A.String(); got != "127.0.0.7" {
		t.Errorf("took the answer %s, want the real server's 127.0.0.7, not the forger's", got)
	}
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// TestNetExchangerReusesTCP: answers too large for UDP, asked of one
// server one after another, travel over one TCP connection; when the
// server has closed it while it was idle, the next query goes over a new
// one and is answered all the same.
func TestNetExchangerReusesTCP(t *testing.T) {
	big := func(w dns.ResponseWriter, req *dns.Msg) {
		reply := new(dns.Msg)
		reply.SetReply(req)
		reply.Truncated = true // over UDP: ask again over TCP
		if _, udp := w.RemoteAddr().(*net.UDPAddr); !udp {
			reply.Truncated = false
			rr, _ := dns.NewRR(req.Question[0].Name + " 60 IN TXT \"over tcp\"")
			reply.Answer = []dns.RR{rr}
		}
		_ = w.WriteMsg(reply)
	}
	counted := &countingListener{}
	addr := startServerWith(t, big, func(ln net.Listener) net.Listener {
		counted.Listener = ln
		return counted
	})

	pool := tcpconns.New(tcpconns.Options{})
	t.Cleanup(pool.Close)
	e := NetExchanger{tcp: pool}
	for i := range 3 {
		resp, err := e.Exchange(t.Context(), query("big.test.", dns.TypeTXT), addr, 2*time.Second)
		if err != nil || !resp.TCP || len(resp.Msg.Answer) != 1 {
			t.Fatalf("exchange %d: %v, %+v", i, err, resp)
		}
	}
	if n := counted.accepted.Load(); n != 1 {
		t.Errorf("3 exchanges over TCP opened %d connections, want 1", n)
	}

	// The server closes the idle connection (as on its idle timeout).
	kept := pool.Get(addr)
	if kept == nil {
		t.Fatal("no connection kept")
	}
	_ = kept.Close()
	pool.Put(addr, kept) // given back closed, as if the server had closed it
	resp, err := e.Exchange(t.Context(), query("big.test.", dns.TypeTXT), addr, 2*time.Second)
	if err != nil || len(resp.Msg.Answer) != 1 {
		t.Fatalf("after the kept connection was closed: %v, %+v", err, resp)
	}
	if n := counted.accepted.Load(); n != 2 {
		t.Errorf("%d connections opened in all, want 2: one new after the kept one failed", n)
	}
}
