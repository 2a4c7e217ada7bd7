package zones

import (
	"errors"
	"net"

	"github.com/miekg/dns"
)

// This file holds the faults that break the transport rather than the
// data: FaultLossy, FaultTCPReset and FaultGarbage.

// dropUDP reports whether a FaultLossy handler drops this UDP query: the
// first, the third, and so on, counted over the handler's life, so that
// of any two queries in a row one is answered.
func (h *Handler) dropUDP() bool {
	return h.udpQueries.Add(1)%2 == 1
}

// truncateEmpty turns m into the reply a FaultTCPReset server gives over
// UDP: TC set, no records but the OPT, so that the client must ask again
// over TCP (RFC 7766 section 5).
func truncateEmpty(m *dns.Msg) {
	m.Truncated = true
	m.Answer, m.Ns = nil, nil
	var extra []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	m.Extra = extra
}

// headerLen is the size of a DNS message header (RFC 1035 section 4.1.1).
const headerLen = 12

// garble returns the wire form a FaultGarbage server sends for reply: the
// packed reply cut off one octet into its first record, or, when it has no
// record, one octet short of its end (inside the question or the header).
// Either way the ID, flags and counts are the reply's, and no parser can
// read the message: the cut falls inside a name, a type or a length, never
// between two fields of the sections the header counts.
func garble(reply *dns.Msg) ([]byte, error) {
	full, err := reply.Pack()
	if err != nil {
		return nil, err
	}
	// The records begin where a message with the same question ends: the
	// header has a fixed size and the question is packed first, so
	// compression cannot move it. (Its header is left zero: the reply's
	// may hold an extended rcode that only packs with the reply's OPT.)
	head := &dns.Msg{Question: reply.Question}
	hb, err := head.Pack()
	if err != nil {
		return nil, err
	}
	cut := len(full) - 1
	if len(full) > len(hb) {
		cut = len(hb) + 1
	}
	return full[:max(cut, headerLen-1)], nil
}

// errReset is what a reset connection's Write returns to the server.
var errReset = errors.New("connection reset on purpose (FaultTCPReset)")

// resetListener is the TCP listener of a FaultTCPReset server: every
// connection it accepts is reset instead of answered.
type resetListener struct {
	net.Listener
}

// Accept implements net.Listener.
func (l resetListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return resetConn{c}, nil
}

// resetConn is a TCP connection whose first write resets it: the query is
// read as usual, and the reply becomes an RST (SO_LINGER 0, then close),
// which the client reads as "connection reset by peer".
type resetConn struct {
	net.Conn
}

// Write implements net.Conn: it resets the connection and writes nothing.
func (c resetConn) Write([]byte) (int, error) {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		// Without linger 0 the close is a FIN, still a failure for the
		// client but not the reset this fault stands for.
		if err := tc.SetLinger(0); err != nil {
			return 0, errors.Join(errReset, err, c.Close())
		}
	}
	return 0, errors.Join(errReset, c.Close())
}
