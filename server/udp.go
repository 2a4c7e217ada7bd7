package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/workers"
	"github.com/rootwalk/rootwalk/server/internal/packet"
)

// fastAnswerer answers, from a datagram alone, the queries it can without
// the full path: a cache hit replayed from a stored packed reply. The
// Handler is one.
type fastAnswerer interface {
	// answerFast writes into out the reply to pkt, a datagram from
	// client, and returns its length and true; or false when the query
	// must take the full path (parse, handler, resolver).
	answerFast(pkt []byte, client netip.AddrPort, out []byte) (int, bool)
}

// udpServer serves a dns.Handler over UDP on one or more sockets bound to
// the same address with SO_REUSEPORT, one reading goroutine each, so the
// kernel spreads clients over the cores. Each datagram is first offered to
// the fast path, on the reading goroutine; what that cannot answer is
// copied and served on a goroutine of the workers pool, whose goroutines
// keep the stacks that the full path grows.
type udpServer struct {
	conns       []*net.UDPConn
	h           dns.Handler
	fast        fastAnswerer // nil: every query takes the full path
	log         *slog.Logger
	recordPanic func(network string, client net.Addr, p any)

	readers  sync.WaitGroup // the reading goroutines
	inflight sync.WaitGroup // the queries on the full path
	workers  *workers.Pool  // the goroutines that serve them
	closing  atomic.Bool
}

// idleWorkers is how many goroutines wait for full-path queries, at most,
// per server: enough for a burst of cold names between two reads.
const idleWorkers = 512

func newUDPServer(conns []*net.UDPConn, h dns.Handler, log *slog.Logger, recordPanic func(string, net.Addr, any)) *udpServer {
	s := &udpServer{conns: conns, h: h, log: log, recordPanic: recordPanic, workers: workers.New(idleWorkers)}
	if f, ok := h.(fastAnswerer); ok {
		s.fast = f
	}
	return s
}

// serve starts one reading goroutine per socket and returns at once.
func (s *udpServer) serve() {
	for _, c := range s.conns {
		s.readers.Go(func() { s.read(c) })
	}
}

// read serves the datagrams of one socket until it is closed.
func (s *udpServer) read(c *net.UDPConn) {
	r := newBatchReader(c)
	out := make([]byte, ednsBufferSize)
	for {
		n, err := r.read()
		switch {
		case err == nil:
		case s.closing.Load() || errors.Is(err, net.ErrClosed):
			return
		case errors.Is(err, errReaderBroken):
			s.log.Error("serving UDP stopped", "addr", c.LocalAddr().String(), "err", err)
			return
		default:
			// A failed read (out of memory, say) loses what it would
			// have read, as a full socket buffer would; the reader goes
			// on, after a pause so that a lasting failure is no busy loop.
			s.log.Warn("reading UDP failed", "addr", c.LocalAddr().String(), "err", err)
			time.Sleep(readRetryPause)
			continue
		}
		for i := range n {
			pkt, from := r.datagram(i)
			if s.fast != nil {
				if m, ok := s.answerFast(pkt, from, out); ok {
					r.reply(out[:m], from)
					continue
				}
			}
			s.inflight.Add(1)
			q := slices.Clone(pkt)
			s.workers.Go(func() { s.serveFull(c, q, from) })
		}
		if err := r.flush(); err != nil && !s.closing.Load() {
			s.log.Debug("write replies", "addr", c.LocalAddr().String(), "err", err)
		}
	}
}

// errReaderBroken is the error of a socket that cannot be read at all.
var errReaderBroken = errors.New("UDP socket unusable")

// readRetryPause is how long a reader waits after a failed read.
const readRetryPause = 10 * time.Millisecond

// answerFast is the fast path with a net under it: a panic is counted
// and the datagram goes to the full path, whose own recover answers it.
func (s *udpServer) answerFast(pkt []byte, from netip.AddrPort, out []byte) (n int, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			s.recordPanic("udp", net.UDPAddrFromAddrPort(from), p)
			n, ok = 0, false
		}
	}()
	return s.fast.answerFast(pkt, from, out)
}

// serveFull parses pkt and hands it to the handler, or answers it with
// FORMERR or NOTIMP, as acceptQuery decides. A panic is counted and the
// query gets no reply.
func (s *udpServer) serveFull(c *net.UDPConn, pkt []byte, from netip.AddrPort) {
	defer s.inflight.Done()
	w := &udpWriter{c: c, to: from, remote: net.UDPAddrFromAddrPort(from)}
	defer func() {
		if p := recover(); p != nil {
			s.recordPanic("udp", w.RemoteAddr(), p)
		}
	}()
	req, reject := parseQuery(pkt)
	switch {
	case reject != nil:
		if err := w.WriteMsg(reject); err != nil {
			s.log.Debug("write reply", "client", from.String(), "err", err)
		}
	case req != nil:
		w.plain = packet.ParseQuery(pkt, &w.query)
		s.h.ServeDNS(w, req)
	}
}

// shutdown stops reading, waits for the queries on the full path to be
// answered (or for ctx to end), then closes the sockets, and returns
// ctx's error if it ended first. The sockets stay open until then, so
// the replies to the queries in flight go out.
func (s *udpServer) shutdown(ctx context.Context) error {
	s.closing.Store(true)
	var errs []error
	for _, c := range s.conns {
		// A deadline in the past ends the wait of a reader at once.
		if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("stop reading %s: %w", c.LocalAddr(), err))
		}
	}
	s.readers.Wait()
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		s.workers.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	for _, c := range s.conns {
		// The replies still to come, if ctx ended first, fail to be
		// written, which their writers log at Debug.
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// udpWriter is the dns.ResponseWriter of one query on the full path. The
// handler may ask it to store the reply for the fast path (keep).
type udpWriter struct {
	c      *net.UDPConn
	to     netip.AddrPort
	remote *net.UDPAddr // to, as RemoteAddr gives it: made once, asked for several times a query
	// query is the query as the fast path reads it, valid when plain:
	// the kind of query whose reply may be replayed.
	query packet.Query
	plain bool
	// keep, when set, stores the reply before it is sent, at clock.Now().
	keep  *packet.Store
	clock Clock
}

// LocalAddr implements dns.ResponseWriter.
func (w *udpWriter) LocalAddr() net.Addr { return w.c.LocalAddr() }

// RemoteAddr implements dns.ResponseWriter.
func (w *udpWriter) RemoteAddr() net.Addr { return w.remote }

// WriteMsg implements dns.ResponseWriter.
func (w *udpWriter) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return fmt.Errorf("pack reply: %w", err)
	}
	if w.keep != nil {
		w.keep.Put(&w.query, b, w.clock.Now())
	}
	_, err = w.Write(b)
	return err
}

// Write implements dns.ResponseWriter: b is one whole message.
func (w *udpWriter) Write(b []byte) (int, error) {
	n, err := w.c.WriteToUDPAddrPort(b, w.to)
	if err != nil {
		return n, fmt.Errorf("write reply to %s: %w", w.to, err)
	}
	return n, nil
}

// Close implements dns.ResponseWriter; a UDP reply has nothing to close.
func (w *udpWriter) Close() error { return nil }

// TsigStatus implements dns.ResponseWriter; there is no TSIG here.
func (w *udpWriter) TsigStatus() error { return nil }

// TsigTimersOnly implements dns.ResponseWriter; there is no TSIG here.
func (w *udpWriter) TsigTimersOnly(bool) {}

// Hijack implements dns.ResponseWriter; it does nothing.
func (w *udpWriter) Hijack() {}
