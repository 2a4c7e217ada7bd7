// Package cookies keeps the resolver's side of DNS Cookies (RFC 7873): a
// client cookie for each server, derived from a secret and the server's
// address, sent with every EDNS query; the server cookie each server last
// gave, sent back to it; and the check that a reply carrying a cookie
// carries ours, which an off-path forger cannot know. It is safe for
// concurrent use.
package cookies

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// ErrMismatch is the error of a reply whose cookie is not the one sent:
// a forgery, or a server confused about who asked.
var ErrMismatch = errors.New("reply cookie does not match the query's")

const (
	clientLen = 8 // bytes of a client cookie (RFC 7873 section 4.1)
	// A server cookie is 8 to 32 bytes (RFC 7873 section 4.2).
	serverMin = 8
	serverMax = 32
	// maxServers bounds the servers remembered; past it, the jar starts
	// over, which costs each server one reply without our server cookie.
	maxServers = 50_000
)

// Jar holds the cookies of the servers the resolver talks to.
type Jar struct {
	secret []byte

	mu      sync.Mutex
	servers map[netip.Addr]*server
}

type server struct {
	client string // hex
	cookie string // the server cookie last seen, hex; "" before the first
}

// New returns a Jar whose client cookies derive from secret, which should
// be random and kept for the life of the process (a new secret makes new
// client cookies, which servers accept after one BADCOOKIE round).
func New(secret []byte) *Jar {
	return &Jar{secret: append([]byte(nil), secret...), servers: make(map[netip.Addr]*server)}
}

// Option returns the COOKIE option for a query to addr: our client cookie,
// followed by the server's cookie once it has given one.
func (j *Jar) Option(addr netip.Addr) *dns.EDNS0_COOKIE {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.server(addr)
	return &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: s.client + s.cookie}
}

// server returns addr's entry, making one; j.mu must be held.
func (j *Jar) server(addr netip.Addr) *server {
	if s, ok := j.servers[addr]; ok {
		return s
	}
	if len(j.servers) >= maxServers {
		clear(j.servers)
	}
	// RFC 7873 appendix B.1: a keyed hash of the server's address (our
	// own varies with the route and is left out).
	mac := hmac.New(sha256.New, j.secret)
	b := addr.Unmap().AsSlice()
	mac.Write(b) // hash.Hash documents that Write never returns an error
	s := &server{client: hex.EncodeToString(mac.Sum(nil)[:clientLen])}
	j.servers[addr] = s
	return s
}

// Check reads the cookie of reply, an answer from addr to a query that
// carried Option(addr). A reply without a cookie passes (the server does
// not do cookies); one whose client cookie is not ours fails with
// ErrMismatch; otherwise the server cookie is kept for the next query.
// fresh reports that the reply is BADCOOKIE with a server cookie the
// query did not have, so that asking again once is worth it.
func (j *Jar) Check(addr netip.Addr, sent, reply *dns.Msg) (fresh bool, err error) {
	got := cookieOf(reply)
	if got == "" {
		return false, nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.server(addr)
	if len(got) < 2*clientLen || !strings.EqualFold(got[:2*clientLen], s.client) {
		return false, ErrMismatch
	}
	cookie := strings.ToLower(got[2*clientLen:])
	if n := len(cookie) / 2; n < serverMin || n > serverMax || len(cookie)%2 != 0 {
		return false, nil // no usable server cookie: ignore it
	}
	s.cookie = cookie
	return reply.Rcode == dns.RcodeBadCookie && cookieOf(sent) != s.client+cookie, nil
}

// cookieOf returns the COOKIE option of m in hex, "" if it has none.
func cookieOf(m *dns.Msg) string {
	c, _ := dnscookie.Of(m)
	return c
}
