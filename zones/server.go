package zones

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// ServerOptions configures a Server.
type ServerOptions struct {
	// Addr is the explicit address and port to bind, over UDP and TCP. An
	// unspecified address (0.0.0.0, ::) or port 0 is an error.
	Addr netip.AddrPort
	// Zones are the zones served.
	Zones []*Zone
	// Fault makes the server misbehave on purpose.
	Fault Fault
	// ForgeFrom is, for a [FaultForge] server, the other address its
	// forged replies come from: a UDP socket is bound there on Addr's port
	// for the server's life. Required with FaultForge, an error otherwise.
	ForgeFrom netip.Addr
	// LossEvery drops every LossEvery-th UDP query (HandlerOptions).
	LossEvery int
	// Cookies answers DNS cookies under a random secret of the server's
	// own (HandlerOptions.Cookies); false ignores them.
	Cookies bool
	// Logger receives lifecycle lines at Info and a line per query at
	// Debug; nil discards.
	Logger *slog.Logger
}

// Server is an authoritative DNS server on one address, over UDP and TCP,
// with its own Handler. It is safe for concurrent use.
type Server struct {
	addr    netip.AddrPort
	handler *Handler
	log     *slog.Logger
	queries atomic.Uint64
	// down: an outage, switched on and off at run time; queries are
	// counted and dropped.
	down atomic.Bool

	udp, tcp *dns.Server
	done     chan error // one value per serving goroutine when it returns

	forgeFrom netip.AddrPort // FaultForge: where forged replies come from
	forger    net.PacketConn // FaultForge: bound to forgeFrom by listen

	stopOnce sync.Once
	stopErr  error
}

// StartServer binds opts.Addr over UDP and TCP and serves until Shutdown.
// It returns once both listeners are accepting queries.
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	if err := s.listen(ctx); err != nil {
		return nil, err
	}
	if err := s.serve(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// newServer checks opts and builds the server, without sockets.
func newServer(opts ServerOptions) (*Server, error) {
	if !opts.Addr.IsValid() || opts.Addr.Addr().IsUnspecified() || opts.Addr.Port() == 0 {
		return nil, fmt.Errorf("new server %s: need an explicit address and port", opts.Addr)
	}
	s := &Server{addr: opts.Addr, log: opts.Logger, done: make(chan error, 2)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	switch forge := opts.ForgeFrom; {
	case opts.Fault != FaultForge && forge.IsValid():
		return nil, fmt.Errorf("new server %s: forge address %s given, but the fault is %s, not %s", opts.Addr, forge, opts.Fault, FaultForge)
	case opts.Fault == FaultForge && (!forge.IsValid() || forge.IsUnspecified() || forge == opts.Addr.Addr()):
		return nil, fmt.Errorf("new server %s: fault %s needs a forge address other than the server's, got %s", opts.Addr, opts.Fault, forge)
	case opts.Fault == FaultForge:
		s.forgeFrom = netip.AddrPortFrom(forge, opts.Addr.Port())
	}
	// A FaultForge handler gets its forger socket from listen, before any
	// query is served.
	hopts := HandlerOptions{Zones: opts.Zones, Fault: opts.Fault, Name: opts.Addr.String(), LossEvery: opts.LossEvery, Logger: s.log}
	if opts.Cookies {
		c, err := dnscookie.NewServer(nil, nil)
		if err != nil {
			return nil, fmt.Errorf("new server %s: %w", opts.Addr, err)
		}
		hopts.Cookies = c
	}
	h, err := newHandler(hopts)
	if err != nil {
		return nil, err
	}
	s.handler = h
	return s, nil
}

// Addr returns the address and port the server is bound to.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Zones returns the origins of the zones served, sorted.
func (s *Server) Zones() []string { return s.handler.Zones() }

// Fault returns the server's fault.
func (s *Server) Fault() Fault { return s.handler.fault }

// ForgeFrom returns the address and port a [FaultForge] server's forged
// replies come from; the zero AddrPort for any other server.
func (s *Server) ForgeFrom() netip.AddrPort { return s.forgeFrom }

// SetDown starts (true) or ends (false) an outage: while it lasts, the
// server reads queries and answers none, as a FaultSilent server does.
func (s *Server) SetDown(down bool) { s.down.Store(down) }

// Cookies returns how many queries with EDNS carried a cookie in state so
// far; always 0 for a server that ignores cookies.
func (s *Server) Cookies(state dnscookie.State) uint64 { return s.handler.Cookies(state) }

// Queries returns how many queries (messages with the QR bit clear and a
// complete header) the server has received so far, answered or not.
func (s *Server) Queries() uint64 { return s.queries.Load() }

// listen binds the UDP and TCP sockets, and a FaultForge server's forger
// socket. A FaultTCPReset server's listener resets what it accepts.
func (s *Server) listen(ctx context.Context) error {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", s.addr.String())
	if err != nil {
		return fmt.Errorf("listen udp %s: %w", s.addr, err)
	}
	ln, err := lc.Listen(ctx, "tcp", s.addr.String())
	if err != nil {
		// The bind error is what the caller needs; closing an unused socket cannot fail usefully.
		_ = pc.Close()
		return fmt.Errorf("listen tcp %s: %w", s.addr, err)
	}
	if s.forgeFrom.IsValid() {
		forger, err := lc.ListenPacket(ctx, "udp", s.forgeFrom.String())
		if err != nil {
			// As above: the bind error matters, not the closes.
			_, _ = pc.Close(), ln.Close()
			return fmt.Errorf("listen udp %s to forge replies for %s: %w", s.forgeFrom, s.addr, err)
		}
		s.forger = forger
		s.handler.forger = forger // before any serving goroutine starts
	}
	if s.handler.fault == FaultTCPReset {
		ln = resetListener{ln}
	}
	s.udp = s.dnsServer()
	s.udp.PacketConn = pc
	s.tcp = s.dnsServer()
	s.tcp.Listener = ln
	return nil
}

// dnsServer returns a miekg/dns server around our handler, without sockets.
func (s *Server) dnsServer() *dns.Server {
	return &dns.Server{
		Handler:       s.handler, // never dns.DefaultServeMux
		UDPSize:       ednsBufferSize,
		MsgAcceptFunc: s.accept,
	}
}

// unbind closes the sockets of a server that was never started.
func (s *Server) unbind() {
	// Nothing was served on them, so a close error changes nothing.
	_ = s.udp.PacketConn.Close()
	_ = s.tcp.Listener.Close()
	s.closeForger()
}

// closeForger closes a FaultForge server's forger socket, if it has one.
// Nothing is read from it, so a close error changes nothing.
func (s *Server) closeForger() {
	if s.forger != nil {
		_ = s.forger.Close()
	}
}

// accept counts a query and decides what miekg/dns does with it before
// unpacking. Everything that is not a response reaches the Handler, which
// does its own checks (opcode, question count); a silent server drops
// everything here, so not even malformed queries get a FORMERR.
func (s *Server) accept(dh dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15 // the QR bit of the header flags
	if dh.Bits&qr != 0 {
		return dns.MsgIgnore
	}
	s.queries.Add(1)
	if s.handler.fault == FaultSilent || s.down.Load() {
		return dns.MsgIgnore
	}
	return dns.MsgAccept
}

// serve starts the UDP and TCP serving goroutines and waits until both
// have started (NotifyStartedFunc). On failure it stops them again.
func (s *Server) serve(ctx context.Context) error {
	started := make(chan struct{}, 2)
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() { s.done <- srv.ActivateAndServe() }()
	}
	for n := 0; n < 2; {
		select {
		case <-started:
			n++
		case err := <-s.done:
			s.abort(1)
			return fmt.Errorf("serve %s: %w", s.addr, errors.Join(err, errors.New("stopped while starting")))
		case <-ctx.Done():
			s.abort(2)
			return fmt.Errorf("serve %s: %w", s.addr, ctx.Err())
		}
	}
	s.log.Debug("authoritative server listening", "server", s.addr.String(),
		"zone", s.handler.Zones(), "fault", s.handler.fault.String())
	return nil
}

// abort stops a server whose start failed: closing the sockets makes both
// serving goroutines return, started or not; it waits for the running ones.
func (s *Server) abort(running int) {
	s.handler.Stop()
	s.unbind()
	for range running {
		// The error is the expected "use of closed connection".
		err := <-s.done
		s.log.Debug("stopped after a failed start", "server", s.addr.String(), "err", err)
	}
	s.stopOnce.Do(func() {}) // a later Shutdown has nothing to do
}

// Shutdown stops the server and waits for its goroutines, or until ctx is
// done; replies a [FaultSlow] server still holds are dropped at once. Later
// calls return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.shutdown(ctx) })
	return s.stopErr
}

// shutdown stops both listeners and collects what the goroutines returned.
// The handler is stopped first: miekg/dns waits for every query in
// progress, and a FaultSlow handler would otherwise hold it for slowDelay.
func (s *Server) shutdown(ctx context.Context) error {
	s.handler.Stop()
	defer s.closeForger() // once the handlers that write to it are done
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for range 2 {
		select {
		case err := <-s.done:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			return fmt.Errorf("shutdown %s: %w", s.addr, ctx.Err())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shutdown %s: %w", s.addr, err)
	}
	s.log.Debug("authoritative server stopped", "server", s.addr.String())
	return nil
}
