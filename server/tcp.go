package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Accept errors other than a closed listener (too many open files, a
// connection reset before it was accepted) are retried after a pause
// that doubles from acceptRetryMin to acceptRetryMax, as net/http does.
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)

// tcpReadBuffer is the read buffer of a connection: pipelined queries
// that arrive together are read with one system call.
const tcpReadBuffer = 2048

// tcpServer answers DNS over TCP (RFC 7766): each query of a connection
// on a goroutine of its own, so that replies go out in the order they are
// ready (section 6.2.1.1), up to a bound per connection; replies written
// one at a time; idle connections, unfinished frames and unread replies
// timed out; connections capped by the limitListener it accepts from.
type tcpServer struct {
	ln          net.Listener // a limitListener, or a TLS listener over one
	h           dns.Handler
	opts        ListenOptions
	log         *slog.Logger
	recordPanic func(network string, client net.Addr, p any)

	closing  atomic.Bool
	done     chan struct{} // closed when shutdown begins
	timedOut atomic.Uint64

	mu    sync.Mutex
	conns map[*tcpConn]struct{}
	wg    sync.WaitGroup // one per connection
}

func newTCPServer(ln net.Listener, h dns.Handler, opts ListenOptions, recordPanic func(string, net.Addr, any)) *tcpServer {
	return &tcpServer{ln: ln, h: h, opts: opts, log: opts.Logger, recordPanic: recordPanic,
		done: make(chan struct{}), conns: make(map[*tcpConn]struct{})}
}

// serve accepts connections until shutdown; it returns an error only if
// the listener fails for good.
func (s *tcpServer) serve() error {
	var pause time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept: %w", err)
			}
			pause = min(max(2*pause, acceptRetryMin), acceptRetryMax)
			s.log.Warn("accepting a TCP connection failed; retrying", "err", err, "retry_in", pause)
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return nil
			}
			continue
		}
		pause = 0
		s.start(c)
	}
}

// start serves c on a goroutine of its own, unless shutdown has begun.
func (s *tcpServer) start(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		_ = c.Close() // accepted as the listener closed: never read
		return
	}
	tc := &tcpConn{s: s, c: c, slots: make(chan struct{}, s.opts.MaxTCPPipeline)}
	s.conns[tc] = struct{}{}
	s.wg.Go(func() {
		tc.serve()
		s.mu.Lock()
		delete(s.conns, tc)
		s.mu.Unlock()
	})
}

// shutdown stops accepting and reading, waits for the queries in flight
// to be answered and their connections closed, or, once ctx ends, closes
// the connections at once and waits for their handlers to return.
func (s *tcpServer) shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing.Swap(true) {
		close(s.done)
		_ = s.ln.Close() // its only error is "already closed"
	}
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()

	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s.wg.Wait()
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.conns {
		_ = c.c.Close() // replies still being written fail: we were told not to wait
	}
	s.mu.Unlock()
	<-finished
	return ctx.Err()
}

// tcpConn is one client connection: one goroutine reads frames, and each
// query read is answered on a goroutine of its own.
type tcpConn struct {
	s       *tcpServer
	c       net.Conn
	slots   chan struct{}  // a slot per query in flight: the pipeline bound
	queries sync.WaitGroup // the queries in flight

	wmu       sync.Mutex   // replies are written whole, one at a time
	lastReply atomic.Int64 // when the last reply was written, in Unix nanoseconds
}

// serve reads and answers queries until the client goes, the connection
// times out or fails, or shutdown; then it waits for the replies to the
// queries read and closes the connection. A panic while reading drops
// the connection at once.
func (c *tcpConn) serve() {
	if c.read() {
		c.queries.Wait()
	}
	_ = c.c.Close() // whatever failed has been counted or logged
	c.queries.Wait()
}

// read runs the read loop; false if it panicked.
func (c *tcpConn) read() (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.s.recordPanic("tcp", c.c.RemoteAddr(), p)
			ok = false
		}
	}()
	r := bufio.NewReaderSize(c.c, tcpReadBuffer)
	wait := c.s.opts.TCPReadTimeout // a new connection should ask at once
	for {
		if !c.await(r, wait) {
			return true
		}
		wait = c.s.opts.TCPIdleTimeout
		m, ok := c.readFrame(r)
		if !ok || !c.acquire() {
			return true
		}
		c.queries.Go(func() {
			defer c.release()
			c.answer(m)
		})
	}
}

// await waits for the first byte of the next frame for up to d after the
// last query or reply. A connection with queries in flight is not idle:
// it is waited on for as long as they take (each is bounded by the
// handler's client timeout).
func (c *tcpConn) await(r *bufio.Reader, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !c.setReadDeadline(deadline) {
			return false
		}
		_, err := r.Peek(1)
		switch {
		case err == nil:
			return true
		case !errors.Is(err, os.ErrDeadlineExceeded) || c.s.closing.Load():
			return false // closed by the client, failed, or shut down
		case len(c.slots) > 0:
			deadline = time.Now().Add(d)
		case c.lastReplyAt().Add(d).After(time.Now()):
			deadline = c.lastReplyAt().Add(d)
		default:
			c.s.timedOut.Add(1)
			return false
		}
	}
}

// readFrame reads one length-prefixed message, which must arrive whole
// within the read timeout. ok is false when the connection is to be
// closed: a timeout, an error, or a frame longer than a query may be.
func (c *tcpConn) readFrame(r *bufio.Reader) (m []byte, ok bool) {
	if !c.setReadDeadline(time.Now().Add(c.s.opts.TCPReadTimeout)) {
		return nil, false
	}
	var prefix [2]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		c.readFailed(err)
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(prefix[:]))
	if n > maxQuerySize {
		c.s.log.Debug("TCP query too long; connection closed", "client", addrString(c.c.RemoteAddr()), "length", n)
		return nil, false
	}
	m = make([]byte, n)
	if _, err := io.ReadFull(r, m); err != nil {
		c.readFailed(err)
		return nil, false
	}
	return m, true
}

// readFailed counts a frame that did not arrive in time.
func (c *tcpConn) readFailed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.s.closing.Load() {
		c.s.timedOut.Add(1)
	}
}

// setReadDeadline sets the read deadline unless shutdown has begun. The
// order matters: shutdown sets closing, then a deadline in the past, so
// a deadline set here before closing is seen is overridden.
func (c *tcpConn) setReadDeadline(t time.Time) bool {
	_ = c.c.SetReadDeadline(t) // fails only on a closed connection, which the read reports
	return !c.s.closing.Load()
}

// stopReading unblocks the read loop for shutdown.
func (c *tcpConn) stopReading() {
	_ = c.c.SetReadDeadline(time.Unix(1, 0)) // fails only on a closed connection: nothing to stop
}

// acquire takes a pipeline slot, waiting for one to free up; false if
// shutdown began meanwhile.
func (c *tcpConn) acquire() bool {
	select {
	case c.slots <- struct{}{}:
		return true
	case <-c.s.done:
		return false
	}
}

func (c *tcpConn) release() { <-c.slots }

func (c *tcpConn) lastReplyAt() time.Time { return time.Unix(0, c.lastReply.Load()) }

// answer parses the frame m and hands the query to the handler, or
// answers it with FORMERR or NOTIMP, as acceptQuery decides. A panic is
// counted and drops the connection.
func (c *tcpConn) answer(m []byte) {
	defer func() {
		if p := recover(); p != nil {
			c.s.recordPanic("tcp", c.c.RemoteAddr(), p)
			_ = c.c.Close() // the connection's state is unknown: drop it
		}
	}()
	w := &tcpWriter{c: c}
	req, reject := parseQuery(m)
	switch {
	case reject != nil:
		if err := w.WriteMsg(reject); err != nil {
			c.s.log.Debug("write reply", "client", addrString(c.c.RemoteAddr()), "err", err)
		}
	case req != nil:
		c.s.h.ServeDNS(w, req)
	}
}

// parseQuery reads a query from m. It returns the query to answer, or a
// rejection to send instead, or neither when the message deserves no
// reply (too short to have a header, or a response).
func parseQuery(m []byte) (req, reject *dns.Msg) {
	if len(m) < 12 {
		return nil, nil
	}
	dh := dns.Header{
		Id:      binary.BigEndian.Uint16(m[0:]),
		Bits:    binary.BigEndian.Uint16(m[2:]),
		Qdcount: binary.BigEndian.Uint16(m[4:]),
		Ancount: binary.BigEndian.Uint16(m[6:]),
		Nscount: binary.BigEndian.Uint16(m[8:]),
		Arcount: binary.BigEndian.Uint16(m[10:]),
	}
	switch acceptQuery(dh) {
	case dns.MsgIgnore:
		return nil, nil
	case dns.MsgRejectNotImplemented:
		return nil, rejection(dh, dns.RcodeNotImplemented)
	case dns.MsgReject:
		return nil, rejection(dh, dns.RcodeFormatError)
	}
	req = new(dns.Msg)
	if err := req.Unpack(m); err != nil {
		return nil, rejection(dh, dns.RcodeFormatError)
	}
	return req, nil
}

// rejection is the reply with rcode to the query whose header is dh:
// its ID, opcode and RD echoed, no sections.
func rejection(dh dns.Header, rcode int) *dns.Msg {
	r := new(dns.Msg)
	r.Id = dh.Id
	r.Response = true
	r.Opcode = int(dh.Bits>>11) & 0xF
	r.RecursionDesired = dh.Bits&(1<<8) != 0
	r.Rcode = rcode
	return r
}

// write sends b as one frame, within the write timeout. A failed write
// closes the connection: the client does not take its replies, and a
// frame cut short would garble the stream for the ones after it.
func (c *tcpConn) write(b []byte) error {
	if len(b) > dns.MaxMsgSize {
		return fmt.Errorf("reply of %d bytes: too long for a TCP frame", len(b))
	}
	frame := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(frame, uint16(len(b)))
	copy(frame[2:], b)

	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.c.SetWriteDeadline(time.Now().Add(c.s.opts.TCPWriteTimeout)) // fails only on a closed connection, which Write reports
	if _, err := c.c.Write(frame); err != nil {
		_ = c.c.Close() // the error below is the one to report
		return fmt.Errorf("write reply to %s: %w", addrString(c.c.RemoteAddr()), err)
	}
	c.lastReply.Store(time.Now().UnixNano())
	return nil
}

// tcpWriter is the dns.ResponseWriter of one query on a tcpConn. It
// supports neither TSIG nor Hijack: the connection stays the server's.
type tcpWriter struct {
	c *tcpConn
}

// LocalAddr implements dns.ResponseWriter.
func (w *tcpWriter) LocalAddr() net.Addr { return w.c.c.LocalAddr() }

// RemoteAddr implements dns.ResponseWriter.
func (w *tcpWriter) RemoteAddr() net.Addr { return w.c.c.RemoteAddr() }

// WriteMsg implements dns.ResponseWriter.
func (w *tcpWriter) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return fmt.Errorf("pack reply: %w", err)
	}
	return w.c.write(b)
}

// Write implements dns.ResponseWriter: b is one whole message.
func (w *tcpWriter) Write(b []byte) (int, error) {
	if err := w.c.write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close implements dns.ResponseWriter: it closes the connection.
func (w *tcpWriter) Close() error { return w.c.c.Close() }

// TsigStatus implements dns.ResponseWriter; there is no TSIG here.
func (w *tcpWriter) TsigStatus() error { return nil }

// TsigTimersOnly implements dns.ResponseWriter; there is no TSIG here.
func (w *tcpWriter) TsigTimersOnly(bool) {}

// Hijack implements dns.ResponseWriter; it does nothing.
func (w *tcpWriter) Hijack() {}
