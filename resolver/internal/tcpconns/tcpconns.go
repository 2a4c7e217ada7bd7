// Package tcpconns keeps the resolver's TCP connections to authoritative
// servers open between queries, so that a server asked over TCP again
// soon (its replies are too large for UDP, say) is not made to accept a
// connection per query: RFC 7766 section 6.2.1 asks clients to reuse
// connections, and RFC 7828 section 1 counts the cost of opening them.
//
// A connection carries one query at a time: the resolver takes an idle
// one (Get), exchanges on it, and gives it back (Put) only after a
// complete, matching reply, so a connection left in an unknown state (a
// timeout, a reply cut short) is closed, never reused. A connection idle
// longer than IdleTimeout, or used MaxQueries times, is closed instead of
// reused: servers close idle connections after seconds (RFC 7766 section
// 6.2.3), and a reused connection the server has closed costs the caller
// a retry on a new one. It is safe for concurrent use.
package tcpconns

import (
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults of Options.
const (
	DefaultIdleTimeout      = 10 * time.Second
	DefaultMaxQueries       = 200
	DefaultMaxIdlePerServer = 4
	DefaultMaxIdle          = 256
)

// Options bounds a Pool; a zero field takes its default.
type Options struct {
	IdleTimeout      time.Duration // an idle connection older than this is closed
	MaxQueries       int           // queries one connection carries before it is closed
	MaxIdlePerServer int           // idle connections kept to one server
	MaxIdle          int           // idle connections kept in all
	Now              func() time.Time
}

// Conn is a pooled connection: the connection and its use so far.
type Conn struct {
	*dns.Conn
	queries int
	idle    time.Time // when it was last given back
}

// Pool holds idle connections by server.
type Pool struct {
	opts Options

	mu        sync.Mutex
	idle      map[netip.AddrPort][]*Conn // most recently given back last
	count     int
	lastSweep time.Time
	closed    bool
}

// New returns an empty pool.
func New(opts Options) *Pool {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxQueries <= 0 {
		opts.MaxQueries = DefaultMaxQueries
	}
	if opts.MaxIdlePerServer <= 0 {
		opts.MaxIdlePerServer = DefaultMaxIdlePerServer
	}
	if opts.MaxIdle <= 0 {
		opts.MaxIdle = DefaultMaxIdle
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Pool{opts: opts, idle: make(map[netip.AddrPort][]*Conn)}
}

// Wrap makes c, a new connection, poolable.
func Wrap(c *dns.Conn) *Conn { return &Conn{Conn: c} }

// Get returns the most recently used idle connection to server, or nil.
// Connections idle too long are closed on the way. A nil pool holds
// nothing.
func (p *Pool) Get(server netip.AddrPort) *Conn {
	if p == nil {
		return nil
	}
	now := p.opts.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	conns := p.idle[server]
	for len(conns) > 0 {
		c := conns[len(conns)-1]
		conns = conns[:len(conns)-1]
		p.count--
		if now.Sub(c.idle) < p.opts.IdleTimeout {
			p.store(server, conns)
			return c
		}
		closeQuietly(c)
	}
	p.store(server, conns)
	return nil
}

// Put gives back c, a connection to server that has just carried a
// complete exchange. It is closed instead when it has carried its share
// of queries, when the server or the pool has no room left, or when the
// pool is closed. A nil pool closes c.
func (p *Pool) Put(server netip.AddrPort, c *Conn) {
	if p == nil {
		closeQuietly(c)
		return
	}
	now := p.opts.Now()
	c.queries++
	c.idle = now
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastSweep) >= p.opts.IdleTimeout {
		p.sweep(now)
	}
	conns := p.idle[server]
	if p.closed || c.queries >= p.opts.MaxQueries || len(conns) >= p.opts.MaxIdlePerServer || p.count >= p.opts.MaxIdle {
		closeQuietly(c)
		return
	}
	p.idle[server] = append(conns, c)
	p.count++
}

// Len returns the number of idle connections held.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Close closes every idle connection; connections given back later are
// closed at once. A nil pool has nothing to close.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for server, conns := range p.idle {
		for _, c := range conns {
			closeQuietly(c)
		}
		delete(p.idle, server)
	}
	p.count = 0
}

// sweep closes the connections idle too long, to any server; p.mu must be
// held. Without it, connections to servers never asked again would stay
// open until Close.
func (p *Pool) sweep(now time.Time) {
	p.lastSweep = now
	for server, conns := range p.idle {
		kept := conns[:0]
		for _, c := range conns {
			if now.Sub(c.idle) < p.opts.IdleTimeout {
				kept = append(kept, c)
				continue
			}
			closeQuietly(c)
			p.count--
		}
		p.store(server, kept)
	}
}

// store sets server's idle list, dropping the key when it is empty; p.mu
// must be held.
func (p *Pool) store(server netip.AddrPort, conns []*Conn) {
	if len(conns) == 0 {
		delete(p.idle, server)
		return
	}
	p.idle[server] = conns
}

// closeQuietly closes a connection nobody is using: an error closing it
// changes nothing for anyone.
func closeQuietly(c *Conn) { _ = c.Close() }
