package server

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"
)

// testBound bounds every wait of these tests.
const testBound = 10 * time.Second

// startListener serves h on a free loopback port with opts and stops it
// when the test ends.
func startListener(t *testing.T, h dns.Handler, opts ListenOptions) *Listener {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	l, err := ListenWith(netip.MustParseAddrPort("127.0.0.1:0"), h, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testBound)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return l
}

// echoHandler answers every query with NOERROR and an A record, after
// waiting, for a name that contains "slow", until release is closed
// (telling slowIn first). A name that contains "boom" panics.
type echoHandler struct {
	release chan struct{}
	slowIn  chan struct{}
}

func newEchoHandler() *echoHandler {
	return &echoHandler{release: make(chan struct{}), slowIn: make(chan struct{}, 64)}
}

func (h *echoHandler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	name := req.Question[0].Name
	if strings.Contains(name, "boom") {
		panic("boom: " + name)
	}
	if strings.Contains(name, "slow") {
		select {
		case h.slowIn <- struct{}{}:
		default: // nobody counts this many
		}
		<-h.release
	}
	reply := new(dns.Msg)
	reply.SetReply(req)
	reply.Answer = append(reply.Answer, &dns.A{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
		A:   net.IPv4(192, 0, 2, 1),
	})
	_ = w.WriteMsg(reply) // the test sees what arrives
}

// dialTCP connects to l from the loopback address from (empty: the
// kernel's choice), and closes the connection when the test ends.
func dialTCP(t *testing.T, l *Listener, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: testBound}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// refused checks that a connection to l from the loopback address from is
// closed at once: the reset may even come before the dial returns.
func refused(t *testing.T, l *Listener, from string) {
	t.Helper()
	d := net.Dialer{Timeout: testBound, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", l.Addr().String())
	if errors.Is(err, syscall.ECONNRESET) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if took := waitClosed(t, c); took > testBound/2 {
		t.Errorf("refused connection closed after %v", took)
	}
}

// frame is m packed and length-prefixed.
func frame(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

func query(name string, id uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.Id = id
	return m
}

func writeAll(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(testBound))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// readReply reads one framed message from c within testBound.
func readReply(t *testing.T, c net.Conn) *dns.Msg {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(testBound))
	var prefix [2]byte
	if _, err := io.ReadFull(c, prefix[:]); err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(prefix[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return m
}

// waitClosed waits, within testBound, for the server to close c, and
// returns how long that took. Data that arrives first fails the test.
func waitClosed(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(testBound))
	var b [1]byte
	n, err := c.Read(b[:])
	switch {
	case n > 0:
		t.Fatalf("got data %x, want the connection closed", b[:n])
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("connection still open after %v", testBound)
	}
	return time.Since(start)
}

// stillOpen checks that the server keeps c open, and sends nothing, for d.
func stillOpen(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	if n, err := c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes, %v; want the connection open and quiet", n, err)
	}
}

// pollUntil polls cond until it holds, failing the test after testBound.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after %v", what, testBound)
		}
		time.Sleep(time.Millisecond) // polling, bounded by the deadline above
	}
}

func TestTCPPipelinedRepliesOutOfOrder(t *testing.T) {
	h := newEchoHandler()
	l := startListener(t, h, ListenOptions{})
	c := dialTCP(t, l, "")

	// One write: a slow query, then fast ones behind it.
	var stream []byte
	stream = append(stream, frame(t, query("slow.example.", 1))...)
	for id := uint16(2); id <= 5; id++ {
		stream = append(stream, frame(t, query("fast.example.", id))...)
	}
	writeAll(t, c, stream)

	var got []uint16
	for range 4 {
		got = append(got, readReply(t, c).Id)
	}
	close(h.release)
	got = append(got, readReply(t, c).Id)
	if got[4] != 1 {
		t.Errorf("reply IDs in order %v, want the slow query's (1) last", got)
	}
	seen := make(map[uint16]bool)
	for _, id := range got {
		seen[id] = true
	}
	if len(seen) != 5 {
		t.Errorf("reply IDs %v, want 1 to 5 once each", got)
	}
}

func TestTCPPipelineBound(t *testing.T) {
	h := newEchoHandler()
	l := startListener(t, h, ListenOptions{MaxTCPPipeline: 2})
	c := dialTCP(t, l, "")
	// Two slow queries fill the pipeline: the fast one behind them is
	// not read until one of them is answered.
	writeAll(t, c, append(append(frame(t, query("slow.example.", 1)), frame(t, query("slow.example.", 2))...),
		frame(t, query("fast.example.", 3))...))
	stillOpen(t, c, 100*time.Millisecond)
	close(h.release)
	seen := make(map[uint16]bool)
	for range 3 {
		seen[readReply(t, c).Id] = true
	}
	if len(seen) != 3 {
		t.Errorf("replies to %v, want to 1, 2 and 3", seen)
	}
}

func TestTCPTimeouts(t *testing.T) {
	const (
		idle = 150 * time.Millisecond
		read = 100 * time.Millisecond
	)
	tests := []struct {
		name    string
		send    func(t *testing.T, c net.Conn, h *echoHandler)
		atLeast time.Duration // the server must not close before
	}{
		{name: "silent new connection", atLeast: read / 2},
		{name: "idle after a reply", atLeast: idle / 2, send: func(t *testing.T, c net.Conn, _ *echoHandler) {
			writeAll(t, c, frame(t, query("fast.example.", 1)))
			readReply(t, c)
		}},
		{name: "length prefix cut in half", atLeast: read / 2, send: func(t *testing.T, c net.Conn, _ *echoHandler) {
			writeAll(t, c, []byte{0})
		}},
		{name: "frame shorter than its length", atLeast: read / 2, send: func(t *testing.T, c net.Conn, _ *echoHandler) {
			b := frame(t, query("fast.example.", 1))
			writeAll(t, c, b[:len(b)-5])
		}},
		{name: "half frame after a reply", atLeast: read / 2, send: func(t *testing.T, c net.Conn, _ *echoHandler) {
			writeAll(t, c, frame(t, query("fast.example.", 1)))
			readReply(t, c)
			writeAll(t, c, []byte{0, 40, 1, 2, 3})
		}},
		{name: "query in flight keeps the connection", atLeast: idle / 2, send: func(t *testing.T, c net.Conn, h *echoHandler) {
			writeAll(t, c, frame(t, query("slow.example.", 7)))
			stillOpen(t, c, 3*idle)
			close(h.release)
			if got := readReply(t, c).Id; got != 7 {
				t.Fatalf("reply ID %d, want 7", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newEchoHandler()
			l := startListener(t, h, ListenOptions{TCPIdleTimeout: idle, TCPReadTimeout: read})
			ignore := goleak.IgnoreCurrent()
			c := dialTCP(t, l, "")
			if tc.send != nil {
				tc.send(t, c, h)
			}
			if took := waitClosed(t, c); took < tc.atLeast {
				t.Errorf("closed after %v, want at least %v", took, tc.atLeast)
			}
			pollUntil(t, "0 connections open", func() bool { return l.Stats().TCPOpen == 0 })
			if got := l.Stats().TCPTimedOut; got != 1 {
				t.Errorf("%d connections timed out, want 1", got)
			}
			// The connection's goroutines are gone with it.
			goleak.VerifyNone(t, ignore)
		})
	}
}

func TestTCPConnectionCaps(t *testing.T) {
	l := startListener(t, newEchoHandler(), ListenOptions{MaxTCPConns: 3, MaxTCPConnsPerClient: 2})
	served := func(t *testing.T, c net.Conn, id uint16) {
		t.Helper()
		writeAll(t, c, frame(t, query("fast.example.", id)))
		if got := readReply(t, c).Id; got != id {
			t.Fatalf("reply ID %d, want %d", got, id)
		}
	}
	a1 := dialTCP(t, l, "127.0.0.1")
	served(t, a1, 1)
	served(t, dialTCP(t, l, "127.0.0.1"), 2)

	// A third from the same client is closed at once.
	refused(t, l, "127.0.0.1")
	// Another client still gets in, up to the total.
	served(t, dialTCP(t, l, "127.0.0.2"), 3)
	refused(t, l, "127.0.0.3")
	if s := l.Stats(); s.TCPRefused != 2 || s.TCPOpen != 3 {
		t.Errorf("stats %+v, want 2 refused and 3 open", s)
	}

	// Once one of the first client's connections closes, it may open
	// another.
	_ = a1.Close()
	pollUntil(t, "2 connections open", func() bool { return l.Stats().TCPOpen == 2 })
	served(t, dialTCP(t, l, "127.0.0.1"), 4)
}

func TestTCPRejectsBeforeTheHandler(t *testing.T) {
	withHeader := func(id, bits, qd, an, ns, ar uint16, rest ...byte) []byte {
		var b []byte
		for _, v := range []uint16{id, bits, qd, an, ns, ar} {
			b = binary.BigEndian.AppendUint16(b, v)
		}
		return append(b, rest...)
	}
	question := []byte{3, 'w', 'w', 'w', 0, 0, 1, 0, 1}
	tests := []struct {
		name      string
		msg       []byte
		wantRcode int // -1: no reply
	}{
		{"shorter than a header", []byte{1, 2, 3}, -1},
		{"a response", withHeader(10, 1<<15, 1, 0, 0, 0, question...), -1},
		{"UPDATE", withHeader(11, 5<<11, 1, 0, 0, 0, question...), dns.RcodeNotImplemented},
		{"no question", withHeader(12, 0, 0, 0, 0, 0), dns.RcodeFormatError},
		{"two questions", withHeader(13, 0, 2, 0, 0, 0, append(question, question...)...), dns.RcodeFormatError},
		{"many additional records", withHeader(14, 0, 1, 0, 0, 3, question...), dns.RcodeFormatError},
		{"question cut short", withHeader(15, 0, 1, 0, 0, 0, question[:4]...), dns.RcodeFormatError},
		{"name pointing at itself", withHeader(16, 0, 1, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1), dns.RcodeFormatError},
		{"a query", withHeader(17, 0, 1, 0, 0, 0, question...), dns.RcodeSuccess},
	}
	// One query at a time, so that replies come in order and a message
	// that gets none is known to have got none.
	l := startListener(t, newEchoHandler(), ListenOptions{MaxTCPPipeline: 1})
	c := dialTCP(t, l, "")
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := uint16(1000 + i)
			stream := append(binary.BigEndian.AppendUint16(nil, uint16(len(tc.msg))), tc.msg...)
			writeAll(t, c, append(stream, frame(t, query("probe.example.", probe))...))
			got := readReply(t, c)
			if tc.wantRcode < 0 {
				if got.Id != probe {
					t.Fatalf("got a reply %v, want none", got)
				}
				return
			}
			wantID := binary.BigEndian.Uint16(tc.msg)
			if got.Id != wantID || !got.Response || got.Rcode != tc.wantRcode {
				t.Fatalf("reply ID %d QR %v rcode %s, want ID %d QR true rcode %s", got.Id, got.Response,
					dns.RcodeToString[got.Rcode], wantID, dns.RcodeToString[tc.wantRcode])
			}
			if got := readReply(t, c).Id; got != probe {
				t.Fatalf("reply ID %d, want the probe's %d", got, probe)
			}
		})
	}
	if s := l.Stats(); s.Panics != 0 {
		t.Errorf("%d panics", s.Panics)
	}
}

func TestTCPQueryTooLongClosesTheConnection(t *testing.T) {
	l := startListener(t, newEchoHandler(), ListenOptions{})
	c := dialTCP(t, l, "")
	writeAll(t, c, append([]byte{0xff, 0xff}, make([]byte, 100)...))
	waitClosed(t, c)
}

func TestTCPClientThatDoesNotReadIsDropped(t *testing.T) {
	// Replies of about 60 KB, to a client that never reads them: once
	// the socket buffers are full, a write times out and the connection
	// is closed.
	big := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		reply := new(dns.Msg)
		reply.SetReply(req)
		for i := range 240 {
			reply.Answer = append(reply.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
				Txt: []string{strings.Repeat(string(rune('a'+i%26)), 240)},
			})
		}
		_ = w.WriteMsg(reply) // it is meant to fail
	})
	l := startListener(t, big, ListenOptions{TCPWriteTimeout: 100 * time.Millisecond})
	c := dialTCP(t, l, "").(*net.TCPConn)
	if err := c.SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	q := frame(t, query("big.example.", 1))
	deadline := time.Now().Add(testBound)
	for l.Stats().TCPOpen > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("connection still open after %v of unread replies", testBound)
		}
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
		_, _ = c.Write(q) // fails once the server stops reading or closes: what we wait for
	}
}

func TestParseQuery(t *testing.T) {
	good := query("www.example.", 9)
	b, err := good.Pack()
	if err != nil {
		t.Fatal(err)
	}
	req, reject := parseQuery(b)
	if reject != nil || req == nil || req.Id != 9 || req.Question[0].Name != "www.example." {
		t.Errorf("parseQuery(query) = %v, %v; want the query", req, reject)
	}
	notify := query("example.", 10)
	notify.Opcode = dns.OpcodeNotify
	notify.RecursionDesired = true
	if b, err = notify.Pack(); err != nil {
		t.Fatal(err)
	}
	if req, reject = parseQuery(b); reject != nil || req == nil || req.Opcode != dns.OpcodeNotify {
		t.Errorf("parseQuery(NOTIFY) = %v, %v; want it passed to the handler, which answers NOTIMP", req, reject)
	}
	update := query("example.", 11)
	update.Opcode = dns.OpcodeUpdate
	update.RecursionDesired = true
	if b, err = update.Pack(); err != nil {
		t.Fatal(err)
	}
	req, reject = parseQuery(b)
	if req != nil || reject == nil || reject.Rcode != dns.RcodeNotImplemented || reject.Opcode != dns.OpcodeUpdate ||
		!reject.RecursionDesired || reject.Id != 11 {
		t.Errorf("parseQuery(UPDATE) = %v, %v; want NOTIMP with the ID, opcode and RD echoed", req, reject)
	}
}
