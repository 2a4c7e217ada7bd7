package tcpconns

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var (
	serverA = netip.MustParseAddrPort("127.0.0.1:53")
	serverB = netip.MustParseAddrPort("127.0.0.2:53")
)

// pipeConn returns a poolable connection and reports, through closed,
// whether it has been closed: its peer reads EOF.
func pipeConn(t *testing.T) (*Conn, func() bool) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _, _ = a.Close(), b.Close() })
	closed := func() bool {
		_ = b.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := b.Read(make([]byte, 1))
		return err != nil && !isTimeout(err)
	}
	return Wrap(&dns.Conn{Conn: a}), closed
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// clock is a hand-moved time.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestPoolReusesPerServer(t *testing.T) {
	p := New(Options{})
	if p.Get(serverA) != nil {
		t.Fatal("an empty pool gave a connection")
	}
	c, closed := pipeConn(t)
	p.Put(serverA, c)
	if p.Get(serverB) != nil {
		t.Error("a connection to A was given for B")
	}
	if got := p.Get(serverA); got != c {
		t.Fatalf("Get(A) = %v, want the connection given back", got)
	}
	if p.Get(serverA) != nil {
		t.Error("one connection was given twice")
	}
	if closed() {
		t.Error("a reused connection was closed")
	}
}

func TestPoolClosesIdleConnections(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	p := New(Options{IdleTimeout: 10 * time.Second, Now: clk.Now})
	old, oldClosed := pipeConn(t)
	p.Put(serverA, old)
	clk.now = clk.now.Add(11 * time.Second)
	if p.Get(serverA) != nil {
		t.Error("a connection idle past the timeout was given")
	}
	if !oldClosed() {
		t.Error("a connection idle past the timeout was not closed")
	}
	// A connection to a server nobody asks again is closed by the next Put.
	other, otherClosed := pipeConn(t)
	p.Put(serverB, other)
	clk.now = clk.now.Add(11 * time.Second)
	fresh, _ := pipeConn(t)
	p.Put(serverA, fresh)
	if !otherClosed() || p.Len() != 1 {
		t.Errorf("after a sweep: other closed %v, %d idle; want closed and 1 idle", otherClosed(), p.Len())
	}
}

func TestPoolBounds(t *testing.T) {
	p := New(Options{MaxQueries: 2, MaxIdlePerServer: 2, MaxIdle: 3})
	c, closed := pipeConn(t)
	p.Put(serverA, c)
	p.Put(serverA, p.Get(serverA)) // its second query
	if !closed() || p.Len() != 0 {
		t.Errorf("after MaxQueries: closed %v, %d idle; want closed and none idle", closed(), p.Len())
	}
	var extra []func() bool
	for _, s := range []netip.AddrPort{serverA, serverA, serverA, serverB, serverB} {
		c, closed := pipeConn(t)
		p.Put(s, c)
		extra = append(extra, closed)
	}
	if p.Len() != 3 || !extra[2]() || !extra[4]() {
		t.Errorf("%d idle, third to A closed %v, second to B closed %v; want 3 idle (2 per server, 3 in all), both closed",
			p.Len(), extra[2](), extra[4]())
	}
	p.Close()
	if p.Len() != 0 || !extra[0]() {
		t.Error("Close left connections open")
	}
	late, lateClosed := pipeConn(t)
	p.Put(serverA, late)
	if !lateClosed() {
		t.Error("a connection given back after Close was kept")
	}
}

func TestNilPool(t *testing.T) {
	var p *Pool
	c, closed := pipeConn(t)
	if p.Get(serverA) != nil {
		t.Error("a nil pool gave a connection")
	}
	p.Put(serverA, c)
	if !closed() {
		t.Error("a nil pool kept a connection open")
	}
	p.Close()
}
