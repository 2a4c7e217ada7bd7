package server

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"
)

// DoQ error codes (RFC 9250 section 4.3), for connections and streams.
const (
	doqNoError             quic.ApplicationErrorCode = 0x0
	doqProtocolError       quic.ApplicationErrorCode = 0x2
	doqStreamNoError       quic.StreamErrorCode      = 0x0
	doqStreamInternalError quic.StreamErrorCode      = 0x1
	doqStreamProtocolError quic.StreamErrorCode      = 0x2
)

// doqMaxStreams bounds the queries one connection may have open at once
// (RFC 9250 section 5.5 asks servers to limit them).
const doqMaxStreams = 100

// QUICListener answers DNS over QUIC (RFC 9250): each query on a
// bidirectional stream of its own, in a 2-byte length frame, answered on
// the same stream, which then ends. It is safe for concurrent use.
type QUICListener struct {
	addr netip.AddrPort
	tr   *quic.Transport
	ln   *quic.Listener
	h    dns.Handler
	opts ListenOptions
	log  *slog.Logger

	ctx    context.Context // ends at Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop, connections and streams
}

// ListenQUIC binds addr on UDP and serves h over QUIC with cfg (its
// NextProtos gets "doq") until Shutdown.
func ListenQUIC(addr netip.AddrPort, h dns.Handler, cfg *tls.Config, opts ListenOptions) (*QUICListener, error) {
	opts = opts.withDefaults()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("listen dns-over-quic %s: %w", addr, err)
	}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{alpnDoQ}
	tr := &quic.Transport{Conn: conn}
	ln, err := tr.Listen(cfg, &quic.Config{
		MaxIdleTimeout:        opts.TCPIdleTimeout,
		MaxIncomingStreams:    doqMaxStreams,
		MaxIncomingUniStreams: -1, // DoQ uses none (section 4.2)
	})
	if err != nil {
		_ = tr.Close() // the listen error is the one to report
		return nil, fmt.Errorf("listen dns-over-quic %s: %w", addr, err)
	}
	l := &QUICListener{addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), tr: tr, ln: ln,
		h: h, opts: opts, log: opts.Logger}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wg.Go(l.accept)
	return l, nil
}

// Addr returns the address served, with the port actually bound.
func (l *QUICListener) Addr() netip.AddrPort { return l.addr }

func (l *QUICListener) accept() {
	for {
		c, err := l.ln.Accept(l.ctx)
		if err != nil {
			if l.ctx.Err() == nil {
				l.log.Error("serving DNS over QUIC stopped", "addr", l.addr.String(), "err", err)
			}
			return
		}
		l.wg.Go(func() { l.serveConn(c) })
	}
}

// serveConn answers the streams of one connection until it ends.
func (l *QUICListener) serveConn(c *quic.Conn) {
	for {
		s, err := c.AcceptStream(l.ctx)
		if err != nil {
			if l.ctx.Err() != nil {
				_ = c.CloseWithError(doqNoError, "shutting down") // the connection goes either way
			}
			return
		}
		l.wg.Go(func() { l.serveStream(c, s) })
	}
}

// serveStream reads one query from s, answers it and closes s. A query
// whose ID is not 0, or a stream that does not carry one whole message,
// is a protocol error, which ends the connection (section 4.2.1, 4.3).
func (l *QUICListener) serveStream(c *quic.Conn, s *quic.Stream) {
	_ = s.SetReadDeadline(time.Now().Add(l.opts.TCPReadTimeout)) // errors surface on the read
	var n [2]byte
	if _, err := io.ReadFull(s, n[:]); err != nil {
		s.CancelRead(doqStreamProtocolError)
		s.CancelWrite(doqStreamProtocolError)
		return
	}
	size := int(binary.BigEndian.Uint16(n[:]))
	if size > maxQuerySize || size < 12 {
		_ = c.CloseWithError(doqProtocolError, "bad query length")
		return
	}
	wire := make([]byte, size)
	if _, err := io.ReadFull(s, wire); err != nil {
		s.CancelRead(doqStreamProtocolError)
		s.CancelWrite(doqStreamProtocolError)
		return
	}
	req, reject := parseQuery(wire)
	if req != nil && req.Id != 0 {
		_ = c.CloseWithError(doqProtocolError, "message ID not 0")
		return
	}
	w := &keptWriter{local: c.LocalAddr(), remote: c.RemoteAddr(), t: TransportDoQ}
	switch {
	case reject != nil:
		w.reply = reject
	case req != nil:
		l.h.ServeDNS(w, req)
	}
	if w.reply == nil {
		s.CancelWrite(doqStreamNoError) // dropped on purpose, or not a query
		return
	}
	w.reply.Id = 0
	out, err := w.reply.Pack()
	if err != nil || len(out) > dns.MaxMsgSize {
		s.CancelWrite(doqStreamInternalError)
		return
	}
	_ = s.SetWriteDeadline(time.Now().Add(l.opts.TCPWriteTimeout))
	frame := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(out)), uint16(len(out)))
	if _, err := s.Write(append(frame, out...)); err != nil {
		l.log.Debug("dns-over-quic: write reply", "client", addrString(c.RemoteAddr()), "err", err)
		s.CancelWrite(doqStreamInternalError)
		return
	}
	_ = s.Close() // FIN: the reply is whole; an error here means the peer has gone
}

// Shutdown stops accepting, ends the connections and waits for the
// streams being answered.
func (l *QUICListener) Shutdown(ctx context.Context) error {
	l.cancel()
	err := l.ln.Close()
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	err = errors.Join(err, l.tr.Close())
	<-done
	if err != nil {
		return fmt.Errorf("shut down dns-over-quic %s: %w", l.addr, err)
	}
	return nil
}
