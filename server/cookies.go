package server

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

// Server cookies (RFC 7873 section 5, in the interoperable form of RFC
// 9018): 16 bytes of version 1, three reserved bytes, a timestamp and a
// SipHash-2-4 of the client cookie, those fields and the client's address
// under a secret. Instances that share the secret accept each other's
// cookies.
const (
	clientCookieLen  = 8
	serverCookieLen  = 16
	cookieVersion    = 1
	cookieSecretLen  = 16
	cookieMaxAge     = time.Hour        // RFC 9018 section 4.3
	cookieMaxFuture  = 5 * time.Minute  // clocks of instances sharing a secret may differ
	cookieRefreshAge = 30 * time.Minute // an older valid cookie is replaced by a new one
)

// ErrBadCookieSecret is the error of a cookie secret that is not 16 bytes.
var ErrBadCookieSecret = errors.New("cookie secret must be 16 bytes (32 hex digits)")

// Cookies makes and checks server cookies. It is safe for concurrent use.
type Cookies struct {
	k0, k1 uint64
	now    func() time.Time
}

// NewCookies returns Cookies under secret, 16 bytes; nil or empty makes a
// random secret for this process alone. now is the clock; nil: time.Now.
func NewCookies(secret []byte, now func() time.Time) (*Cookies, error) {
	if len(secret) == 0 {
		secret = make([]byte, cookieSecretLen)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("new cookie secret: %w", err)
		}
	}
	if len(secret) != cookieSecretLen {
		return nil, fmt.Errorf("%w: got %d bytes", ErrBadCookieSecret, len(secret))
	}
	if now == nil {
		now = time.Now
	}
	return &Cookies{k0: binary.LittleEndian.Uint64(secret[:8]), k1: binary.LittleEndian.Uint64(secret[8:]), now: now}, nil
}

// cookieCheck is what Check found in a query.
type cookieCheck uint8

const (
	cookieNone      cookieCheck = iota // no COOKIE option
	cookieMalformed                    // FORMERR (RFC 7873 section 5.2.2)
	cookieNew                          // a client cookie, with no or a bad, stale or old server cookie
	cookieValid                        // a server cookie we made, still fresh
	numCookieStates
)

// cookieStateNames label the cookie counters in the metrics.
var cookieStateNames = [numCookieStates]string{
	cookieNone: "none", cookieMalformed: "malformed", cookieNew: "new", cookieValid: "valid",
}

// Check reads the COOKIE option of req, from client, and returns what it
// found and the option for the reply: the client cookie with a server
// cookie, made anew unless the query's is valid and recent.
func (c *Cookies) Check(req *dns.Msg, client netip.Addr) (cookieCheck, *dns.EDNS0_COOKIE) {
	opt := req.IsEdns0()
	if opt == nil {
		return cookieNone, nil
	}
	var raw string
	found := false
	for _, o := range opt.Option {
		if ck, ok := o.(*dns.EDNS0_COOKIE); ok {
			raw, found = ck.Cookie, true
			break
		}
	}
	if !found {
		return cookieNone, nil
	}
	b, err := hex.DecodeString(raw)
	// RFC 7873 section 5.2.2: 8 bytes, or 16 to 40.
	if err != nil || (len(b) != clientCookieLen && (len(b) < 16 || len(b) > 40)) {
		return cookieMalformed, nil
	}
	cc := b[:clientCookieLen]
	now := c.now()
	state := cookieNew
	if len(b) == clientCookieLen+serverCookieLen {
		sc := b[clientCookieLen:]
		if ts, ok := c.verify(cc, sc, client); ok {
			age := now.Sub(ts)
			switch {
			case age > cookieMaxAge || age < -cookieMaxFuture:
			case age > cookieRefreshAge:
				state = cookieValid // valid, but time for a new one
			default:
				return cookieValid, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(b)}
			}
		}
	}
	sc := c.make(cc, client, now)
	return state, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(cc) + hex.EncodeToString(sc)}
}

// make returns a new server cookie for client cookie cc from client.
func (c *Cookies) make(cc []byte, client netip.Addr, now time.Time) []byte {
	sc := make([]byte, serverCookieLen)
	sc[0] = cookieVersion
	binary.BigEndian.PutUint32(sc[4:8], uint32(now.Unix()))
	binary.LittleEndian.PutUint64(sc[8:], c.hash(cc, sc[:8], client)) // SipHash output is little-endian
	return sc
}

// verify checks a server cookie made by make (under the same secret) and
// returns its timestamp.
func (c *Cookies) verify(cc, sc []byte, client netip.Addr) (time.Time, bool) {
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
func (c *Cookies) hash(cc, head []byte, client netip.Addr) uint64 {
	ip := client.Unmap().AsSlice()
	in := make([]byte, 0, len(cc)+len(head)+len(ip))
	in = append(append(append(in, cc...), head...), ip...)
	return siphash.Hash(c.k0, c.k1, in)
}

// answerCookie puts in reply the COOKIE option req's cookie deserves, and
// counts it; false means the cookie is malformed (FORMERR). A client
// without a valid server cookie is answered all the same (RFC 7873
// section 5.2.3): cookies only prove, to a client that uses them, that
// the answer came from us.
func (h *Handler) answerCookie(req, reply *dns.Msg, client netip.Addr) bool {
	if h.cookies == nil {
		return true
	}
	state, opt := h.cookies.Check(req, client)
	h.metrics.cookies[state].Add(1)
	if state == cookieMalformed {
		return false
	}
	if opt != nil {
		ro := replyOPT(reply, req.IsEdns0())
		ro.Option = append(ro.Option, opt)
	}
	return true
}
