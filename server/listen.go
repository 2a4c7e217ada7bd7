package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// maxBindAttempts bounds the search for a port free on both UDP and TCP
// when the listen address asks for port 0.
const maxBindAttempts = 20

// Listener serves one dns.Handler on UDP and TCP at one address.
type Listener struct {
	addr     netip.AddrPort
	udp, tcp *dns.Server
	wg       sync.WaitGroup
	log      *slog.Logger
}

// Listen binds addr on UDP and TCP (with port 0, one free port for both)
// and serves h on them until Shutdown. It returns once both are serving.
func Listen(addr netip.AddrPort, h dns.Handler, log *slog.Logger) (*Listener, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pc, ln, err := bindBoth(addr)
	if err != nil {
		return nil, err
	}
	bound := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	l := &Listener{addr: netip.AddrPortFrom(addr.Addr(), bound.Port()), log: log}
	l.udp = &dns.Server{PacketConn: pc, Handler: h}
	l.tcp = &dns.Server{Listener: ln, Handler: h}

	started := make(chan struct{}, 2)
	errs := make(chan error, 2)
	for _, srv := range []*dns.Server{l.udp, l.tcp} {
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		l.wg.Go(func() {
			if err := srv.ActivateAndServe(); err != nil {
				errs <- err
			}
		})
	}
	for range 2 {
		select {
		case <-started:
		case err := <-errs:
			_ = l.Shutdown(context.Background()) // the start error is the one worth reporting
			return nil, fmt.Errorf("serve %s: %w", l.addr, err)
		}
	}
	return l, nil
}

// Addr returns the address served, with the port actually bound.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Shutdown stops both servers and waits for them to return.
func (l *Listener) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range []*dns.Server{l.udp, l.tcp} {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	l.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shut down %s: %w", l.addr, err)
	}
	return nil
}

// bindBoth binds addr for UDP and TCP. With port 0 it picks a port free on
// both, trying again when the UDP port's TCP twin is taken.
func bindBoth(addr netip.AddrPort) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range maxBindAttempts {
		pc, err := net.ListenPacket("udp", addr.String())
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", netip.AddrPortFrom(addr.Addr(), uint16(port)).String())
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close() // nothing was served on it
		lastErr = fmt.Errorf("listen tcp %s: %w", netip.AddrPortFrom(addr.Addr(), uint16(port)), err)
		if addr.Port() != 0 {
			break
		}
	}
	return nil, nil, lastErr
}
