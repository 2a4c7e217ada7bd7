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
)

// fuzzBound bounds each wait of FuzzListener: far more than a loopback
// round trip, so that reaching it means the server stopped answering.
const fuzzBound = 5 * time.Second

// maxUDPPayload is the longest datagram IPv4 can carry.
const maxUDPPayload = 65507

// FuzzListener sends arbitrary bytes to a real Listener, in front of the
// real handler, over loopback: as a UDP datagram, then over a TCP
// connection as two frames followed by the bytes themselves as a raw
// stream (which exercises framing: partial frames, several frames, frames
// too long). The server must not panic anywhere (counted by the Listener
// or logged by the handler), must keep answering, and every reply must
// unpack, be a response, and answer a message that was sent, at most one
// reply per frame over TCP. FuzzHandler (handler_test.go) covers the
// handler alone, without the transports.
func FuzzListener(f *testing.F) {
	var logs syncBuffer
	h := newTestHandler(f, answering(f, 3), slog.New(slog.NewTextHandler(&logs, nil)))
	l := startFuzzListener(f, h)
	udp, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = udp.Close() })
	var probeID uint16

	for _, q := range []*dns.Msg{newQuery("www.example.com.", dns.TypeTXT, 1232), newQuery("nope.example.com.", dns.TypeA, 0)} {
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > dns.MaxMsgSize {
			return // cannot be framed; a datagram that long cannot be sent
		}
		probeID++
		fuzzUDP(t, udp, b, probeID)
		fuzzTCP(t, l, b)
		if s := l.Stats(); s.Panics != 0 {
			t.Fatalf("%d panics recovered at the listener on %x", s.Panics, b)
		}
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("handler panicked on %x: %s", b, logs.String())
		}
	})
}

// startFuzzListener serves h on a free loopback port until the fuzz
// target ends.
func startFuzzListener(f *testing.F, h dns.Handler) *Listener {
	f.Helper()
	var logs syncBuffer
	l, err := ListenWith(netip.MustParseAddrPort("127.0.0.1:0"), h, ListenOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), fuzzBound)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			f.Error(err)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			f.Errorf("listener logged errors:\n%s", logs.String())
		}
	})
	return l
}

// fuzzUDP sends b, then a probe query, and reads until the probe's reply
// comes: the server still answers. Replies to earlier inputs may come
// meanwhile; each must be a response that unpacks.
func fuzzUDP(t *testing.T, c net.Conn, b []byte, probeID uint16) {
	t.Helper()
	probe := newQuery("www.example.com.", dns.TypeA, 0)
	probe.Id = probeID
	pb, err := probe.Pack()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range [][]byte{b, pb} {
		if len(m) > maxUDPPayload {
			continue
		}
		if _, err := c.Write(m); err != nil {
			t.Fatalf("send over UDP: %v", err)
		}
	}
	buf := make([]byte, dns.MaxMsgSize)
	_ = c.SetReadDeadline(time.Now().Add(fuzzBound))
	for {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no reply to the probe after %x: %v", b, err)
		}
		reply := checkReply(t, buf[:n])
		if reply.Id == probeID && len(reply.Question) == 1 && reply.Question[0].Name == "www.example.com." {
			return
		}
	}
}

// fuzzTCP sends b framed twice, then raw, then an ending that makes the
// server close the connection once it has answered, and reads the
// replies until it does. The client never closes first, and resets the
// connection at the end, so that no socket is left in TIME_WAIT: a
// fuzzer makes thousands of connections a second, and would run out of
// ports.
func fuzzTCP(t *testing.T, l *Listener, b []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Addr().String(), fuzzBound)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = c.(*net.TCPConn).SetLinger(0) // fails only if closed already
		_ = c.Close()                     // nothing left to report
	}()
	framed := binary.BigEndian.AppendUint16(nil, uint16(len(b)))
	framed = append(framed, b...)
	stream := append(append(append([]byte{}, framed...), framed...), b...)
	stream = append(stream, ending(stream)...)
	sent := frames(stream)
	ids := make(map[uint16]bool)
	for _, m := range sent {
		if len(m) >= 2 {
			ids[binary.BigEndian.Uint16(m)] = true
		}
	}

	_ = c.SetDeadline(time.Now().Add(fuzzBound))
	if _, err := c.Write(stream); err != nil && !isReset(err) {
		t.Fatalf("send over TCP: %v", err)
	}
	var replies int
	for {
		var prefix [2]byte
		if _, err := io.ReadFull(c, prefix[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("TCP connection still open %v after %x", fuzzBound, stream)
			}
			return // closed by the server, at a frame boundary or not
		}
		m := make([]byte, binary.BigEndian.Uint16(prefix[:]))
		if _, err := io.ReadFull(c, m); err != nil {
			t.Fatalf("TCP reply cut short after %x: %v", stream, err)
		}
		reply := checkReply(t, m)
		if !ids[reply.Id] {
			t.Fatalf("TCP reply with ID %d to no message sent in %x", reply.Id, stream)
		}
		if replies++; replies > len(sent) {
			t.Fatalf("%d TCP replies to %d frames in %x", replies, len(sent), stream)
		}
	}
}

// ending returns what to send after stream for the server to close the
// connection at once, once it has answered: the frame that stream leaves
// unfinished, if any, is completed, and a frame too long for a query
// follows.
func ending(stream []byte) []byte {
	tooLong := []byte{0xff, 0xff}
	for len(stream) >= 2 {
		n := int(binary.BigEndian.Uint16(stream))
		switch {
		case n > maxQuerySize:
			return nil // the server closes here
		case len(stream) < 2+n:
			return append(make([]byte, 2+n-len(stream)), tooLong...)
		}
		stream = stream[2+n:]
	}
	if len(stream) == 1 { // half a length
		n := int(stream[0]) << 8
		if n > maxQuerySize {
			return []byte{0}
		}
		return append(make([]byte, 1+n), tooLong...)
	}
	return tooLong
}

// checkReply unpacks a reply and checks that it is one.
func checkReply(t *testing.T, b []byte) *dns.Msg {
	t.Helper()
	reply := new(dns.Msg)
	if err := reply.Unpack(b); err != nil {
		t.Fatalf("reply %x does not unpack: %v", b, err)
	}
	if !reply.Response {
		t.Fatalf("reply without QR: %v", reply)
	}
	return reply
}

// frames splits a TCP stream into the frames the server reads, up to the
// first one it would not read whole, or refuse as too long.
func frames(stream []byte) [][]byte {
	var out [][]byte
	for len(stream) >= 2 {
		n := int(binary.BigEndian.Uint16(stream))
		if n > maxQuerySize || len(stream) < 2+n {
			break
		}
		out = append(out, stream[2:2+n])
		stream = stream[2+n:]
	}
	return out
}

// isReset reports whether err says the server has closed the connection
// already, as it may have before reading everything sent.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENOTCONN)
}
