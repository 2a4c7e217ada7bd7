package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// ALPN protocol names of the encrypted transports.
const (
	alpnDoT = "dot" // RFC 7858, registered by RFC 8310's IANA section
	alpnDoQ = "doq" // RFC 9250 section 4.1.1
)

// TLSConfig returns the server side of TLS for the encrypted transports:
// TLS 1.3 only (RFC 8310 section 8 recommends TLS 1.3; RFC 9250 requires
// it for QUIC), with the certificate and key read from PEM files.
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load %s and %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}, nil
}

// TLSListener answers DNS over TLS (RFC 7858) on one TCP address. It is
// the TCP listener's server over a TLS listener: the same framing,
// pipelining (RFC 7766), idle and read timeouts and connection caps, so a
// client may keep its connection and send queries one after another or
// many at once. It is safe for concurrent use.
type TLSListener struct {
	addr   netip.AddrPort
	tcp    *tcpServer
	limit  *limitListener
	wg     sync.WaitGroup
	log    *slog.Logger
	panics atomic.Uint64
}

// ListenTLS binds addr and serves h over TLS with cfg (its NextProtos
// gets "dot") until Shutdown.
func ListenTLS(addr netip.AddrPort, h dns.Handler, cfg *tls.Config, opts ListenOptions) (*TLSListener, error) {
	opts = opts.withDefaults()
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("listen dns-over-tls %s: %w", addr, err)
	}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{alpnDoT}
	l := &TLSListener{addr: ln.Addr().(*net.TCPAddr).AddrPort(), log: opts.Logger}
	l.limit = newLimitListener(ln, opts.MaxTCPConns, opts.MaxTCPConnsPerClient)
	l.tcp = newTCPServer(tls.NewListener(l.limit, cfg), transportHandler{h, TransportDoT}, opts, l.recordPanic)
	l.wg.Go(func() {
		if err := l.tcp.serve(); err != nil {
			l.log.Error("serving DNS over TLS stopped", "addr", l.addr.String(), "err", err)
		}
	})
	return l, nil
}

// Addr returns the address served, with the port actually bound.
func (l *TLSListener) Addr() netip.AddrPort { return l.addr }

// Stats returns the connection counters, as ListenerStats.
func (l *TLSListener) Stats() ListenerStats {
	return ListenerStats{Panics: l.panics.Load(), TCPOpen: l.limit.open(), TCPRefused: l.limit.refused.Load(),
		TCPTimedOut: l.tcp.timedOut.Load()}
}

// Shutdown stops reading queries, lets those in flight be answered and
// closes the connections, at once if ctx ends first.
func (l *TLSListener) Shutdown(ctx context.Context) error {
	err := l.tcp.shutdown(ctx)
	l.wg.Wait()
	if err != nil {
		return fmt.Errorf("shut down dns-over-tls %s: %w", l.addr, err)
	}
	return nil
}

func (l *TLSListener) recordPanic(network string, client net.Addr, p any) {
	l.log.Error("panic below the DNS-over-TLS listener; query dropped", "network", network, "client", addrString(client),
		"err", fmt.Sprint(p), "stack", string(debug.Stack()))
	l.panics.Add(1)
}
