// Package dnscookie holds what both sides of DNS Cookies (RFC 7873) share:
// reading a message's COOKIE option, and making and checking server
// cookies in the interoperable form of RFC 9018, for whatever answers DNS
// queries (the resolver's listener, the lab's authoritative servers).
// Instances that share a secret accept each other's server cookies.
package dnscookie

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/dchest/siphash"
	"github.com/miekg/dns"
)

// A server cookie is 16 bytes: version 1, three reserved bytes, a
// timestamp and a SipHash-2-4 of the client cookie, those fields and the
// client's address under a secret.
const (
	clientCookieLen  = 8
	serverCookieLen  = 16
	cookieVersion    = 1
	cookieSecretLen  = 16
	cookieMaxAge     = time.Hour        // RFC 9018 section 4.3
	cookieMaxFuture  = 5 * time.Minute  // clocks of instances sharing a secret may differ
	cookieRefreshAge = 30 * time.Minute // an older valid cookie is replaced by a new one
)

// ErrBadSecret is the error of a cookie secret that is not 16 bytes.
var ErrBadSecret = errors.New("cookie secret must be 16 bytes (32 hex digits)")

// Server makes and checks server cookies under one secret. It is safe for
// concurrent use.
type Server struct {
	k0, k1 uint64
	now    func() time.Time
}

// NewServer returns a Server under secret, 16 bytes; nil or empty makes a
// random secret for this process alone. now is the clock; nil: time.Now.
func NewServer(secret []byte, now func() time.Time) (*Server, error) {
	if len(secret) == 0 {
		secret = make([]byte, cookieSecretLen)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("new cookie secret: %w", err)
		}
	}
	if len(secret) != cookieSecretLen {
		return nil, fmt.Errorf("%w: got %d bytes", ErrBadSecret, len(secret))
	}
	if now == nil {
		now = time.Now
	}
	return &Server{k0: binary.LittleEndian.Uint64(secret[:8]), k1: binary.LittleEndian.Uint64(secret[8:]), now: now}, nil
}

// Of returns the first COOKIE option of m, in hex as miekg/dns holds it,
// and whether m has one.
func Of(m *dns.Msg) (string, bool) {
	opt := m.IsEdns0()
	if opt == nil {
		return "", false
	}
	for _, o := range opt.Option {
		if c, ok := o.(*dns.EDNS0_COOKIE); ok {
			return c.Cookie, true
		}
	}
	return "", false
}

// State is what Check found in a query.
type State uint8

// The states of a query's cookie.
const (
	Absent     State = iota // no COOKIE option
	Malformed               // answer FORMERR (RFC 7873 section 5.2.2)
	Unverified              // a client cookie, with no or a bad, stale or old server cookie
	Verified                // a server cookie made under our secret, still fresh
	NumStates               // how many states there are, to size tables by state
)

// String returns the state's name in lower case, as metrics label it.
func (s State) String() string {
	switch s {
	case Absent:
		return "none"
	case Malformed:
		return "malformed"
	case Unverified:
		return "new"
	case Verified:
		return "valid"
	}
	return "unknown"
}

// Check reads the COOKIE option of req, from client, and returns what it
// found and the option for the reply: the client cookie with a server
// cookie, made anew unless the query's is valid and recent.
func (c *Server) Check(req *dns.Msg, client netip.Addr) (State, *dns.EDNS0_COOKIE) {
	raw, found := Of(req)
	if !found {
		return Absent, nil
	}
	b, err := hex.DecodeString(raw)
	// RFC 7873 section 5.2.2: 8 bytes, or 16 to 40.
	if err != nil || (len(b) != clientCookieLen && (len(b) < 16 || len(b) > 40)) {
		return Malformed, nil
	}
	cc := b[:clientCookieLen]
	now := c.now()
	state := Unverified
	if len(b) == clientCookieLen+serverCookieLen {
		sc := b[clientCookieLen:]
		if ts, ok := c.verify(cc, sc, client); ok {
			age := now.Sub(ts)
			switch {
			case age > cookieMaxAge || age < -cookieMaxFuture:
			case age > cookieRefreshAge:
				state = Verified // valid, but time for a new one
			default:
				return Verified, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(b)}
			}
		}
	}
	sc := c.make(cc, client, now)
	return state, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(cc) + hex.EncodeToString(sc)}
}

// make returns a new server cookie for client cookie cc from client.
func (c *Server) make(cc []byte, client netip.Addr, now time.Time) []byte {
	sc := make([]byte, serverCookieLen)
	sc[0] = cookieVersion
	binary.BigEndian.PutUint32(sc[4:8], uint32(now.Unix()))
	binary.LittleEndian.PutUint64(sc[8:], c.hash(cc, sc[:8], client)) // SipHash output is little-endian
	return sc
}

// verify checks a server cookie made by make (under the same secret) and
// returns its timestamp.
func (c *Server) verify(cc, sc []byte, client netip.Addr) (time.Time, bool) {
	if sc[0] != cookieVersion || binary.LittleEndian.Uint64(sc[8:]) != c.hash(cc, sc[:8], client) {
		return time.Time{}, false
	}
	// The timestamp is serial arithmetic on 32 bits (RFC 9018 section
	// 4.3): read it as the instant nearest now.
	now := c.now()
	delta := int32(binary.BigEndian.Uint32(sc[4:8]) - uint32(now.Unix()))
	return now.Add(time.Duration(delta) * time.Second), true
}

// hash is RFC 9018's SipHash-2-4 of Client Cookie | Version | Reserved |
// Timestamp | Client-IP (4 or 16 bytes).
func (c *Server) hash(cc, head []byte, client netip.Addr) uint64 {
	ip := client.Unmap().AsSlice()
	in := make([]byte, 0, len(cc)+len(head)+len(ip))
	in = append(append(append(in, cc...), head...), ip...)
	return siphash.Hash(c.k0, c.k1, in)
}
