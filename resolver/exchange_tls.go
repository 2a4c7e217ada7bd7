package resolver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// exchange sends query to server: over TLS for a forward or stub server
// configured so, with the Exchanger otherwise.
func (r *Resolver) exchange(ctx context.Context, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (Response, error) {
	if name, ok := r.tlsServers[server]; ok {
		return r.exchangeTLS(ctx, query, server, name, timeout)
	}
	return r.exch.Exchange(ctx, query, server, timeout)
}

// tlsHandshakeAllowance is added to a TLS server's timeout, which the
// resolver learns from round trips, for the TCP and TLS handshakes that
// come before the query's own.
const tlsHandshakeAllowance = time.Second

// exchangeTLS asks server over DNS over TLS (RFC 7858), its certificate
// verified for name (or, without one, its address) against the
// resolver's roots: an upstream that cannot prove who it is is not asked.
// Each exchange opens its own connection.
func (r *Resolver) exchangeTLS(ctx context.Context, query *dns.Msg, server netip.AddrPort, name string, timeout time.Duration) (Response, error) {
	if name == "" {
		name = server.Addr().String()
	}
	c := &dns.Client{Net: "tcp-tls", Timeout: timeout + tlsHandshakeAllowance, TLSConfig: &tls.Config{
		ServerName: name,
		RootCAs:    r.tlsRoots,
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"dot"},
	}}
	start := time.Now()
	reply, _, err := c.ExchangeContext(ctx, query, server.String())
	if err != nil {
		return Response{}, fmt.Errorf("%s over tls (%s): %w", server, name, err)
	}
	if err := checkReply(query, reply); err != nil {
		return Response{}, fmt.Errorf("%s over tls: %w", server, err)
	}
	return Response{Msg: reply, RTT: time.Since(start), TCP: true}, nil
}
