package server

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// limitListener caps the connections it hands out, in total and per
// client address: past a cap, a connection is closed as soon as it is
// accepted, with a reset, and Accept goes on to the next. A connection
// counts until it is closed. It is safe for concurrent use.
type limitListener struct {
	net.Listener
	total, perClient int // negative: no cap

	mu       sync.Mutex
	count    int
	byClient map[netip.Addr]int
	refused  atomic.Uint64
}

func newLimitListener(ln net.Listener, total, perClient int) *limitListener {
	return &limitListener{Listener: ln, total: total, perClient: perClient, byClient: make(map[netip.Addr]int)}
}

// Accept returns the next connection within the caps.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := remoteIP(c.RemoteAddr())
		if l.admit(client) {
			return &countedConn{Conn: c, l: l, client: client}, nil
		}
		l.refused.Add(1)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with a reset: no TIME_WAIT kept for a client over its cap
		}
		_ = c.Close() // nothing was read or written: nothing to report
	}
}

func (l *limitListener) admit(client netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= 0 && l.count >= l.total || l.perClient >= 0 && l.byClient[client] >= l.perClient {
		return false
	}
	l.count++
	l.byClient[client]++
	return true
}

func (l *limitListener) release(client netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count--
	if l.byClient[client]--; l.byClient[client] <= 0 {
		delete(l.byClient, client)
	}
}

// open returns the number of connections counted now.
func (l *limitListener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// countedConn gives its slot back when it is first closed.
type countedConn struct {
	net.Conn
	l      *limitListener
	client netip.Addr
	once   sync.Once
}

// Close closes the connection and, the first time, frees its slot.
func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.client) })
	return err
}

// remoteIP is the address a connection's caps are counted under: the
// peer's IP, with an IPv4-mapped IPv6 address unmapped.
func remoteIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(addrString(a)); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{} // all connections of unknown origin share one count
}
