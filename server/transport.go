package server

import (
	"fmt"
	"net"

	"github.com/miekg/dns"
)

// Transport is how a client's query came: the listener it reached.
type Transport uint8

// The transports, as /stats and /metrics name them.
const (
	TransportUDP Transport = iota
	TransportTCP
	TransportDoT // DNS over TLS, RFC 7858
	TransportDoH // DNS over HTTPS, RFC 8484
	TransportDoQ // DNS over QUIC, RFC 9250
	numTransports
)

var transportNames = [numTransports]string{"udp", "tcp", "dot", "doh", "doq"}

// String returns the transport's short name.
func (t Transport) String() string {
	if t < numTransports {
		return transportNames[t]
	}
	return "unknown"
}

// transportHandler serves a listener of the encrypted transports: the
// handler sees writers that say which transport they are.
type transportHandler struct {
	h dns.Handler
	t Transport
}

func (th transportHandler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	th.h.ServeDNS(transportWriter{ResponseWriter: w, t: th.t}, r)
}

// transportWriter is a ResponseWriter that knows its transport.
type transportWriter struct {
	dns.ResponseWriter
	t Transport
}

func (w transportWriter) Transport() Transport { return w.t }

// transportOf says which transport w answers on: its own word for an
// encrypted one, UDP or TCP from its address otherwise.
func transportOf(w dns.ResponseWriter) Transport {
	if tw, ok := w.(interface{ Transport() Transport }); ok {
		return tw.Transport() // DNS over QUIC has UDP addresses, and no truncation
	}
	if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
		return TransportUDP
	}
	return TransportTCP
}

// keptWriter is the ResponseWriter of a transport that frames the reply
// itself (DNS over HTTPS, DNS over QUIC): it keeps the reply for the
// listener to send.
type keptWriter struct {
	local, remote net.Addr
	t             Transport
	reply         *dns.Msg
}

func (w *keptWriter) LocalAddr() net.Addr  { return w.local }
func (w *keptWriter) RemoteAddr() net.Addr { return w.remote }
func (w *keptWriter) Transport() Transport { return w.t }
func (w *keptWriter) WriteMsg(m *dns.Msg) error {
	w.reply = m
	return nil
}

// Write takes a packed reply.
func (w *keptWriter) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, fmt.Errorf("%s: unpack reply: %w", w.t, err)
	}
	w.reply = m
	return len(b), nil
}
func (w *keptWriter) Close() error        { return nil }
func (w *keptWriter) TsigStatus() error   { return nil }
func (w *keptWriter) TsigTimersOnly(bool) {}
func (w *keptWriter) Hijack()             {}
