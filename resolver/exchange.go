package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/internal/tcpconns"
)

// Exchanger sends one query to one server and returns its reply. The
// resolver never touches the network except through an Exchanger, so tests
// can replace the network with fake servers.
type Exchanger interface {
	// Exchange sends query to server, honouring ctx, and returns a reply
	// that matches the query (ID and question), or an error. timeout
	// bounds each transport attempt (UDP, then TCP after truncation); the
	// resolver learns it per server from the server's round-trip times.
	Exchange(ctx context.Context, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (Response, error)
}

// Response is a server's reply and how it was obtained.
type Response struct {
	Msg *dns.Msg
	RTT time.Duration // from sending the query to receiving the reply used
	TCP bool          // the UDP reply was truncated and this one came over TCP
}

// ErrTimeout marks an exchange that got no reply in time.
var ErrTimeout = errors.New("timeout")

// NetExchanger is the real network: UDP first, then TCP when the UDP reply
// is truncated (RFC 7766 section 5). Every UDP exchange dials a fresh,
// connected socket, so each query leaves from a new random source port
// (RFC 5452 section 9.2) and the kernel drops datagrams from any address
// but the one asked. TCP connections are kept open between queries when
// the resolver gave the exchanger a pool (RFC 7766 section 6.2.1); the
// zero value dials one per query. The zero value is ready to use and safe
// for concurrent use.
type NetExchanger struct {
	tcp *tcpconns.Pool // nil: a TCP connection per query
}

// Exchange implements Exchanger. A zero timeout means DefaultAttemptTimeout.
func (e NetExchanger) Exchange(ctx context.Context, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (Response, error) {
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	reply, rtt, err := e.overUDP(ctx, query, server, timeout)
	if err != nil {
		return Response{}, err
	}
	if !reply.Truncated {
		return Response{Msg: reply, RTT: rtt}, nil
	}
	reply, rtt, err = e.overTCP(ctx, query, server, timeout)
	if err != nil {
		return Response{}, fmt.Errorf("after truncated UDP reply: %w", err)
	}
	return Response{Msg: reply, RTT: rtt, TCP: true}, nil
}

func (e NetExchanger) once(ctx context.Context, network string, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (*dns.Msg, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	client := &dns.Client{Net: network, UDPSize: ednsBufferSize}
	conn, err := client.DialContext(ctx, server.String())
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", network, server, classifyNetErr(ctx, err))
	}
	defer conn.Close()
	return exchangeOn(ctx, client, conn, query, server)
}

// exchangeBuffers hold a UDP exchange's packed query and its reply: the
// message unpacked from a reply copies what it keeps.
var exchangeBuffers = sync.Pool{New: func() any { return new([2 * ednsBufferSize]byte) }}

// overUDP exchanges query with server over UDP, from a socket of its
// own, within timeout.
func (e NetExchanger) overUDP(ctx context.Context, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (*dns.Msg, time.Duration, error) {
	f, ok, err := dialUDP(server)
	if !ok {
		return e.once(ctx, "udp", query, server, timeout)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("udp %s: %w", server, err)
	}
	defer func() { _ = f.Close() }() // a socket read from, never written to after: nothing to lose
	// The socket's own deadline is the timeout (or ctx's deadline, if
	// sooner), with no context of its own: a timer fewer per query.
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := f.SetDeadline(deadline); err != nil {
		return nil, 0, fmt.Errorf("udp %s: %w", server, err)
	}
	// A deadline in the past ends the wait when the caller gives up.
	stop := context.AfterFunc(ctx, func() { _ = f.SetDeadline(time.Unix(1, 0)) }) // fails only once closed
	defer stop()
	bufs := exchangeBuffers.Get().(*[2 * ednsBufferSize]byte)
	defer exchangeBuffers.Put(bufs)
	out, err := query.PackBuffer(bufs[:ednsBufferSize])
	if err != nil {
		return nil, 0, fmt.Errorf("udp %s: pack query: %w", server, err)
	}
	start := time.Now()
	if _, err := f.Write(out); err != nil {
		return nil, 0, fmt.Errorf("udp %s: %w", server, classifyNetErr(ctx, err))
	}
	buf := bufs[ednsBufferSize:] // as long as the replies we ask for
	for {
		n, err := f.Read(buf)
		if err != nil {
			return nil, 0, fmt.Errorf("udp %s: %w", server, classifyNetErr(ctx, err))
		}
		rtt := time.Since(start)
		reply := new(dns.Msg)
		if err := reply.Unpack(buf[:n]); err != nil {
			return nil, 0, fmt.Errorf("udp %s: %w: %w", server, ErrBadReply, err)
		}
		if reply.Id != query.Id {
			continue // a late reply to an earlier query, or a guess: keep waiting
		}
		if err := checkReply(query, reply); err != nil {
			return nil, 0, fmt.Errorf("udp %s: %w", server, err)
		}
		return reply, rtt, nil
	}
}

// overTCP exchanges query with server over TCP, on a connection kept from
// an earlier exchange if the pool has one, else on a new one, which is
// kept for the next exchange if this one completes. A kept connection
// that fails (the server may have closed it while it was idle) is closed,
// and the query is sent again on a new connection, within the same
// deadline: a TCP exchange costs a handshake more than UDP, so it is
// allowed two of the server's round trips.
func (e NetExchanger) overTCP(ctx context.Context, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (*dns.Msg, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*timeout)
	defer cancel()
	client := &dns.Client{Net: "tcp"}
	if kept := e.tcp.Get(server); kept != nil {
		reply, rtt, err := exchangeOn(ctx, client, kept.Conn, query, server)
		if err == nil {
			e.tcp.Put(server, kept)
			return reply, rtt, nil
		}
		_ = kept.Close() // in an unknown state: never reused
		if ctx.Err() != nil || errors.Is(err, ErrBadReply) {
			return nil, 0, err
		}
	}
	conn, err := client.DialContext(ctx, server.String())
	if err != nil {
		return nil, 0, fmt.Errorf("tcp %s: %w", server, classifyNetErr(ctx, err))
	}
	reply, rtt, err := exchangeOn(ctx, client, conn, query, server)
	if err != nil || e.tcp == nil {
		_ = conn.Close() // the error, if any, is the exchange's
		return reply, rtt, err
	}
	e.tcp.Put(server, tcpconns.Wrap(conn))
	return reply, rtt, nil
}

// exchangeOn sends query to server on conn and reads the reply, within
// ctx, and checks that it answers the query. It leaves conn open.
func exchangeOn(ctx context.Context, client *dns.Client, conn *dns.Conn, query *dns.Msg, server netip.AddrPort) (*dns.Msg, time.Duration, error) {
	network := client.Net
	// miekg/dns reads until the deadline it sets from ctx; a deadline
	// set now also ends the read when ctx is cancelled earlier.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) }) // fails only on a closed conn
	defer stop()
	reply, rtt, err := client.ExchangeWithConnContext(ctx, query, conn)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", network, server, classifyNetErr(ctx, err))
	}
	if err := checkReply(query, reply); err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", network, server, err)
	}
	return reply, rtt, nil
}

// classifyNetErr turns the ways a socket reports "no answer in time" into
// ErrTimeout, keeping the original error too.
func classifyNetErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		// The caller gave up: no fault of the server's.
		return fmt.Errorf("%w: %w", context.Canceled, err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// checkReply rejects a reply that does not answer query: wrong ID, not a
// response, another opcode, or another question. A failure reply (FORMERR,
// NOTIMP, REFUSED, SERVFAIL) may leave the question out; RFC 6891 section 7
// and common servers do.
func checkReply(query, reply *dns.Msg) error {
	switch {
	case reply.Id != query.Id:
		return fmt.Errorf("%w: ID %d, want %d", ErrBadReply, reply.Id, query.Id)
	case !reply.Response:
		return fmt.Errorf("%w: QR bit clear", ErrBadReply)
	case reply.Opcode != query.Opcode:
		return fmt.Errorf("%w: opcode %s, want %s", ErrBadReply, dns.OpcodeToString[reply.Opcode], dns.OpcodeToString[query.Opcode])
	}
	if len(reply.Question) == 0 && reply.Rcode != dns.RcodeSuccess && reply.Rcode != dns.RcodeNameError {
		return nil
	}
	if len(reply.Question) != 1 || !sameQuestion(reply.Question[0], query.Question[0]) {
		return fmt.Errorf("%w: question %v, want %v", ErrBadReply, reply.Question, query.Question[0])
	}
	return nil
}

// sameQuestion compares questions, ignoring the case of the name (RFC 4343).
func sameQuestion(a, b dns.Question) bool {
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

// ExchangerFunc adapts a function to an Exchanger.
type ExchangerFunc func(ctx context.Context, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (Response, error)

// Exchange implements Exchanger.
func (f ExchangerFunc) Exchange(ctx context.Context, query *dns.Msg, server netip.AddrPort, timeout time.Duration) (Response, error) {
	return f(ctx, query, server, timeout)
}
