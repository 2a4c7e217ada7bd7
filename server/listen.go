package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// maxBindAttempts bounds the search for a port free on both UDP and TCP
// when the listen address asks for port 0.
const maxBindAttempts = 20

// Defaults of ListenOptions.
const (
	// DefaultTCPIdleTimeout closes a TCP connection that has been quiet
	// this long with no query in flight. RFC 7766 section 6.2.3 asks for
	// timeouts "on the order of seconds"; miekg/dns uses 8 s, Unbound 30 s.
	DefaultTCPIdleTimeout = 10 * time.Second

	// DefaultTCPReadTimeout bounds the wait for a new connection's first
	// query, and for the rest of any frame once its first byte has come:
	// a client that sends a length and then less than that is dropped.
	DefaultTCPReadTimeout = 2 * time.Second

	// DefaultTCPWriteTimeout bounds the writing of one reply: a client
	// that does not read its replies is dropped.
	DefaultTCPWriteTimeout = 2 * time.Second

	// DefaultMaxTCPConns bounds the TCP connections open at once.
	DefaultMaxTCPConns = 1000

	// DefaultMaxTCPConnsPerClient bounds the TCP connections open at once
	// from one client address: a tenth of the total, so that no one
	// address can take the whole pool. RFC 7766 section 6.2.2 asks for
	// per-client limits "much looser" than the one connection a client
	// should open, since one address may be a NAT, or a host's stub
	// forwarding for all its programs.
	DefaultMaxTCPConnsPerClient = 100

	// DefaultMaxTCPPipeline bounds the queries of one TCP connection
	// answered at once (RFC 7766 section 6.2.1.1); past it, the
	// connection is not read until a reply has gone out.
	DefaultMaxTCPPipeline = 32
)

// maxQuerySize bounds a query read from a client, over UDP (the read
// buffer; miekg/dns would read only 512 bytes) and TCP (a longer frame
// closes the connection). Real queries, EDNS options and padding
// included, are a few hundred bytes; 64 KiB frames pipelined on many
// connections would only be a way to hold the server's memory.
const maxQuerySize = 4096

// ListenOptions configures a Listener. The zero value gives the defaults.
type ListenOptions struct {
	// TCPIdleTimeout closes a TCP connection quiet this long with no
	// query in flight; 0: DefaultTCPIdleTimeout.
	TCPIdleTimeout time.Duration
	// TCPReadTimeout bounds the wait for a connection's first query and
	// for the rest of a frame once begun; 0: DefaultTCPReadTimeout.
	TCPReadTimeout time.Duration
	// TCPWriteTimeout bounds the writing of one reply over TCP; 0:
	// DefaultTCPWriteTimeout.
	TCPWriteTimeout time.Duration
	// MaxTCPConns bounds the TCP connections open at once: past it, a new
	// connection is closed as soon as it is accepted. 0:
	// DefaultMaxTCPConns; negative: no bound.
	MaxTCPConns int
	// MaxTCPConnsPerClient is the same bound for one client address. 0:
	// DefaultMaxTCPConnsPerClient; negative: no bound.
	MaxTCPConnsPerClient int
	// MaxTCPPipeline bounds the queries of one connection answered at
	// once; 0 or negative: DefaultMaxTCPPipeline.
	MaxTCPPipeline int
	// Logger receives lifecycle lines, and an Error line for each panic
	// recovered at the listener; nil: discard.
	Logger *slog.Logger
}

func (o ListenOptions) withDefaults() ListenOptions {
	if o.TCPIdleTimeout <= 0 {
		o.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if o.TCPReadTimeout <= 0 {
		o.TCPReadTimeout = DefaultTCPReadTimeout
	}
	if o.TCPWriteTimeout <= 0 {
		o.TCPWriteTimeout = DefaultTCPWriteTimeout
	}
	if o.MaxTCPConns == 0 {
		o.MaxTCPConns = DefaultMaxTCPConns
	}
	if o.MaxTCPConnsPerClient == 0 {
		o.MaxTCPConnsPerClient = DefaultMaxTCPConnsPerClient
	}
	if o.MaxTCPPipeline <= 0 {
		o.MaxTCPPipeline = DefaultMaxTCPPipeline
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Listener serves one dns.Handler on UDP and TCP at one address, with
// servers of our own: miekg/dns answers a TCP connection's queries one
// after the other and never times out a write (tcp.go), and reads UDP one
// datagram per system call, with no way to answer a cache hit before the
// whole message is parsed (udp.go). A panic below the listener, in the
// handler or in the parsing of a query, is recovered, logged and counted:
// the packet or the connection is dropped and the Listener goes on
// serving. It is safe for concurrent use.
type Listener struct {
	addr    netip.AddrPort
	udp     *udpServer
	tcp     *tcpServer
	limit   *limitListener
	wg      sync.WaitGroup
	log     *slog.Logger
	running atomic.Bool // serving errors after Listen returned are logged, not returned
	panics  atomic.Uint64
}

// ListenerStats are a Listener's counters since it started.
type ListenerStats struct {
	Panics      uint64 // panics recovered at the listener, each dropping a packet or a connection
	TCPOpen     int    // TCP connections open now
	TCPRefused  uint64 // TCP connections closed at once: a connection cap was reached
	TCPTimedOut uint64 // TCP connections closed for idleness or a frame not finished in time
}

// Listen is ListenWith with the default options and log as the logger.
func Listen(addr netip.AddrPort, h dns.Handler, log *slog.Logger) (*Listener, error) {
	return ListenWith(addr, h, ListenOptions{Logger: log})
}

// ListenWith binds addr on UDP and TCP (with port 0, one free port for
// both) and serves h on them until Shutdown. UDP gets one socket per
// core (GOMAXPROCS), all bound to addr with SO_REUSEPORT where the system
// has it. It returns once both are serving.
func ListenWith(addr netip.AddrPort, h dns.Handler, opts ListenOptions) (*Listener, error) {
	opts = opts.withDefaults()
	conns, ln, err := bindBoth(addr, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	bound := conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
	l := &Listener{addr: netip.AddrPortFrom(addr.Addr(), bound.Port()), log: opts.Logger}
	l.udp = newUDPServer(conns, h, opts.Logger, l.recordPanic)
	l.limit = newLimitListener(ln, opts.MaxTCPConns, opts.MaxTCPConnsPerClient)
	l.tcp = newTCPServer(l.limit, h, opts, l.recordPanic)

	l.udp.serve()
	l.wg.Go(func() {
		if err := l.tcp.serve(); err != nil {
			l.log.Error("serving TCP stopped", "addr", l.addr.String(), "err", err)
		}
	})
	l.running.Store(true)
	return l, nil
}

// Addr returns the address served, with the port actually bound.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Stats returns a snapshot of the counters.
func (l *Listener) Stats() ListenerStats {
	return ListenerStats{
		Panics:      l.panics.Load(),
		TCPOpen:     l.limit.open(),
		TCPRefused:  l.limit.refused.Load(),
		TCPTimedOut: l.tcp.timedOut.Load(),
	}
}

// Shutdown stops reading new queries on both transports, lets the
// queries in flight be answered, and closes everything. If ctx ends
// first, TCP connections are closed at once; Shutdown still waits for
// the handlers running (each is bounded by its client timeout) and
// returns ctx's error.
func (l *Listener) Shutdown(ctx context.Context) error {
	l.running.Store(false)
	var udpErr error
	udpDone := make(chan struct{})
	go func() {
		defer close(udpDone)
		udpErr = l.udp.shutdown(ctx)
	}()
	tcpErr := l.tcp.shutdown(ctx)
	<-udpDone
	l.wg.Wait()
	switch {
	case udpErr != nil:
		return fmt.Errorf("shut down %s: udp: %w", l.addr, udpErr)
	case tcpErr != nil:
		return fmt.Errorf("shut down %s: tcp: %w", l.addr, tcpErr)
	}
	return nil
}

// recordPanic counts and logs a panic recovered at the listener; p is
// what recover returned. It must be called from the deferred function
// that recovered, so that the stack is the panic's.
func (l *Listener) recordPanic(network string, client net.Addr, p any) {
	l.log.Error("panic below the listener; query dropped", "network", network, "client", addrString(client),
		"err", fmt.Sprint(p), "stack", string(debug.Stack()))
	l.panics.Add(1) // after the log line, so that whoever sees the count finds the line
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// acceptQuery is the first look at a query's header, the same on both
// transports: responses are ignored, opcodes other than QUERY and NOTIFY
// get NOTIMP, and messages with anything but one question or with more
// records than a query carries get FORMERR, before any of them is
// parsed further.
var acceptQuery dns.MsgAcceptFunc = dns.DefaultMsgAcceptFunc

// bindBoth binds addr for TCP and, n times where SO_REUSEPORT lets
// several sockets share it (once elsewhere), for UDP. With port 0 it picks
// a port free on both, trying again when the UDP port's TCP twin is taken.
func bindBoth(addr netip.AddrPort, n int) ([]*net.UDPConn, net.Listener, error) {
	if !reusePort {
		n = 1
	}
	lc := net.ListenConfig{Control: reusePortControl}
	var lastErr error
	for range maxBindAttempts {
		conns, err := bindUDP(lc, addr, n)
		if err != nil {
			return nil, nil, err
		}
		port := conns[0].LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", netip.AddrPortFrom(addr.Addr(), uint16(port)).String())
		if err == nil {
			return conns, ln, nil
		}
		closeAll(conns)
		lastErr = fmt.Errorf("listen tcp %s: %w", netip.AddrPortFrom(addr.Addr(), uint16(port)), err)
		if addr.Port() != 0 {
			break
		}
	}
	return nil, nil, lastErr
}

// bindUDP binds n UDP sockets to addr, the first one choosing the port
// when addr's is 0 and the others joining it.
func bindUDP(lc net.ListenConfig, addr netip.AddrPort, n int) ([]*net.UDPConn, error) {
	conns := make([]*net.UDPConn, 0, n)
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr.String())
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		c := pc.(*net.UDPConn) // what ListenPacket returns for "udp"
		conns = append(conns, c)
		addr = netip.AddrPortFrom(addr.Addr(), uint16(c.LocalAddr().(*net.UDPAddr).Port)) // the port the first chose
	}
	return conns, nil
}

// closeAll closes sockets nothing was served on, so a close error
// changes nothing.
func closeAll(conns []*net.UDPConn) {
	for _, c := range conns {
		_ = c.Close()
	}
}
