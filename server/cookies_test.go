package server

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// vectorClient is the client address of RFC 9018's test vectors
// (198.51.100.100, documentation space); it is only hashed, never sent to.
var vectorClient = netip.AddrFrom4([4]byte{198, 51, 100, 100})

const vectorSecret = "e5e973e5a6b2a43f48e7dc849e37bfcf"

func cookieQuery(cookie string) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion("example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	opt := q.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	return q
}

func vectorCookies(t *testing.T, at int64) *Cookies {
	t.Helper()
	secret, _ := hex.DecodeString(vectorSecret) // a constant of valid hex
	c, err := NewCookies(secret, func() time.Time { return time.Unix(at, 0) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCookiesRFC9018Vector: RFC 9018 appendix A.1, learning a new server
// cookie: the same secret, client cookie, address and time give the same
// server cookie as every other implementation.
func TestCookiesRFC9018Vector(t *testing.T) {
	c := vectorCookies(t, 1559731985)
	state, opt := c.Check(cookieQuery("2464c4abcf10c957"), vectorClient)
	if state != cookieNew || opt == nil || opt.Cookie != "2464c4abcf10c957010000005cf79f111f8130c3eee29480" {
		t.Errorf("A.1: got %v %v, want a new cookie 2464c4abcf10c957010000005cf79f111f8130c3eee29480", state, opt)
	}
	// A.2: the same client, 40 minutes on, gets its valid cookie renewed.
	c = vectorCookies(t, 1559734385)
	state, opt = c.Check(cookieQuery("2464c4abcf10c957010000005cf79f111f8130c3eee29480"), vectorClient)
	if state != cookieValid || opt == nil || opt.Cookie != "2464c4abcf10c957010000005cf7a871d4a564a1442aca77" {
		t.Errorf("A.2: got %v %v, want valid and renewed as 2464c4abcf10c957010000005cf7a871d4a564a1442aca77", state, opt)
	}
}

func TestCookiesCheck(t *testing.T) {
	const at = 1559731985
	const made = "2464c4abcf10c957010000005cf79f111f8130c3eee29480" // at time at, for vectorClient
	other := netip.MustParseAddr("127.0.0.2")
	tests := []struct {
		name      string
		cookie    string // "" for no COOKIE option
		client    netip.Addr
		now       int64
		want      cookieCheck
		sameReply bool // the reply carries the query's cookie unchanged
	}{
		{"no cookie", "", vectorClient, at, cookieNone, false},
		{"client cookie only", "2464c4abcf10c957", vectorClient, at, cookieNew, false},
		{"our server cookie, fresh", made, vectorClient, at + 60, cookieValid, true},
		{"our server cookie, 40 minutes old: valid, renewed", made, vectorClient, at + 40*60, cookieValid, false},
		{"our server cookie, 2 hours old: stale", made, vectorClient, at + 2*3600, cookieNew, false},
		{"our server cookie, from the future beyond 5 minutes", made, vectorClient, at - 10*60, cookieNew, false},
		{"another client's cookie", made, other, at, cookieNew, false},
		{"a forged server cookie", "2464c4abcf10c957010000005cf79f1100000000000000000", vectorClient, at, cookieMalformed, false},
		{"a wrong hash", "2464c4abcf10c957010000005cf79f110000000000000000", vectorClient, at, cookieNew, false},
		{"too short", "2464c4abcf10", vectorClient, at, cookieMalformed, false},
		{"between client and server lengths", "2464c4abcf10c95701020304", vectorClient, at, cookieMalformed, false},
		{"too long", "2464c4abcf10c957" + "00000000000000000000000000000000000000000000000000000000000000000000", vectorClient, at, cookieMalformed, false},
		{"not hex", "zz64c4abcf10c957", vectorClient, at, cookieMalformed, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := vectorCookies(t, tc.now)
			q := cookieQuery(tc.cookie)
			if tc.cookie == "" {
				q.IsEdns0().Option = nil
			}
			state, opt := c.Check(q, tc.client)
			if state != tc.want {
				t.Errorf("state %v, want %v", state, tc.want)
			}
			if tc.want == cookieNew || tc.want == cookieValid {
				if opt == nil || len(opt.Cookie) != 48 || opt.Cookie[:16] != tc.cookie[:16] {
					t.Fatalf("reply cookie %v: want our client cookie and a 16-byte server cookie", opt)
				}
				if (opt.Cookie == tc.cookie) != tc.sameReply {
					t.Errorf("reply cookie %s, query's %s: want same %v", opt.Cookie, tc.cookie, tc.sameReply)
				}
				// Whatever is handed out verifies on the next query.
				if again, _ := c.Check(cookieQuery(opt.Cookie), tc.client); again != cookieValid {
					t.Errorf("the cookie given out does not verify: %v", again)
				}
			}
		})
	}
}

func TestCookiesSharedSecret(t *testing.T) {
	secret := []byte("0123456789abcdef")
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	a, _ := NewCookies(secret, now)
	b, _ := NewCookies(secret, now)
	other, _ := NewCookies([]byte("fedcba9876543210"), now)
	client := netip.MustParseAddr("127.0.0.1")
	_, opt := a.Check(cookieQuery("0102030405060708"), client)
	if state, _ := b.Check(cookieQuery(opt.Cookie), client); state != cookieValid {
		t.Error("an instance with the same secret refused the cookie")
	}
	if state, _ := other.Check(cookieQuery(opt.Cookie), client); state != cookieNew {
		t.Error("an instance with another secret accepted the cookie")
	}
	if _, err := NewCookies([]byte("short"), now); err == nil {
		t.Error("a 5-byte secret accepted")
	}
}

// TestHandlerCookies: the handler answers a client cookie with a server
// cookie, accepts it back, answers a malformed one FORMERR, and counts
// each.
func TestHandlerCookies(t *testing.T) {
	cookies, err := NewCookies([]byte("0123456789abcdef"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: loopbackACL, Metrics: m, Cookies: cookies})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(cookie string) *dns.Msg {
		t.Helper()
		w := udpClient("127.0.0.1")
		q := newQuery("www.example.com.", dns.TypeA, 1232)
		if cookie != "" {
			opt := q.IsEdns0()
			opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
		}
		h.ServeDNS(w, q)
		if w.Reply() == nil {
			t.Fatal("no reply")
		}
		return w.Reply()
	}
	first := ask("0102030405060708")
	got := replyCookie(first)
	if first.Rcode != dns.RcodeSuccess || len(got) != 48 || got[:16] != "0102030405060708" {
		t.Fatalf("reply to a client cookie: rcode %s, cookie %q; want NOERROR and our client cookie with a server cookie",
			dns.RcodeToString[first.Rcode], got)
	}
	if again := ask(got); replyCookie(again) != got {
		t.Errorf("the server cookie given back: reply cookie %q, want the same %q", replyCookie(again), got)
	}
	if bad := ask("0102"); bad.Rcode != dns.RcodeFormatError {
		t.Errorf("a malformed cookie got %s, want FORMERR", dns.RcodeToString[bad.Rcode])
	}
	if none := ask(""); replyCookie(none) != "" {
		t.Errorf("a query without a cookie got one: %q", replyCookie(none))
	}
	if c := m.Snapshot().Cookies; c != (CookieStats{None: 1, Malformed: 1, New: 1, Valid: 1}) {
		t.Errorf("cookie counts %+v, want one of each", c)
	}
}

func replyCookie(m *dns.Msg) string {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if c, ok := o.(*dns.EDNS0_COOKIE); ok {
				return c.Cookie
			}
		}
	}
	return ""
}
