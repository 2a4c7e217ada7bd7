package dnscookie

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

func vectorCookies(t *testing.T, at int64) *Server {
	t.Helper()
	secret, _ := hex.DecodeString(vectorSecret) // a constant of valid hex
	c, err := NewServer(secret, func() time.Time { return time.Unix(at, 0) })
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
	if state != Unverified || opt == nil || opt.Cookie != "2464c4abcf10c957010000005cf79f111f8130c3eee29480" {
		t.Errorf("A.1: got %v %v, want a new cookie 2464c4abcf10c957010000005cf79f111f8130c3eee29480", state, opt)
	}
	// A.2: the same client, 40 minutes on, gets its valid cookie renewed.
	c = vectorCookies(t, 1559734385)
	state, opt = c.Check(cookieQuery("2464c4abcf10c957010000005cf79f111f8130c3eee29480"), vectorClient)
	if state != Verified || opt == nil || opt.Cookie != "2464c4abcf10c957010000005cf7a871d4a564a1442aca77" {
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
		want      State
		sameReply bool // the reply carries the query's cookie unchanged
	}{
		{"no cookie", "", vectorClient, at, Absent, false},
		{"client cookie only", "2464c4abcf10c957", vectorClient, at, Unverified, false},
		{"our server cookie, fresh", made, vectorClient, at + 60, Verified, true},
		{"our server cookie, 40 minutes old: valid, renewed", made, vectorClient, at + 40*60, Verified, false},
		{"our server cookie, 2 hours old: stale", made, vectorClient, at + 2*3600, Unverified, false},
		{"our server cookie, from the future beyond 5 minutes", made, vectorClient, at - 10*60, Unverified, false},
		{"another client's cookie", made, other, at, Unverified, false},
		{"a forged server cookie", "2464c4abcf10c957010000005cf79f1100000000000000000", vectorClient, at, Malformed, false},
		{"a wrong hash", "2464c4abcf10c957010000005cf79f110000000000000000", vectorClient, at, Unverified, false},
		{"too short", "2464c4abcf10", vectorClient, at, Malformed, false},
		{"between client and server lengths", "2464c4abcf10c95701020304", vectorClient, at, Malformed, false},
		{"too long", "2464c4abcf10c957" + "00000000000000000000000000000000000000000000000000000000000000000000", vectorClient, at, Malformed, false},
		{"not hex", "zz64c4abcf10c957", vectorClient, at, Malformed, false},
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
			if tc.want == Unverified || tc.want == Verified {
				if opt == nil || len(opt.Cookie) != 48 || opt.Cookie[:16] != tc.cookie[:16] {
					t.Fatalf("reply cookie %v: want our client cookie and a 16-byte server cookie", opt)
				}
				if (opt.Cookie == tc.cookie) != tc.sameReply {
					t.Errorf("reply cookie %s, query's %s: want same %v", opt.Cookie, tc.cookie, tc.sameReply)
				}
				// Whatever is handed out verifies on the next query.
				if again, _ := c.Check(cookieQuery(opt.Cookie), tc.client); again != Verified {
					t.Errorf("the cookie given out does not verify: %v", again)
				}
			}
		})
	}
}

func TestCookiesSharedSecret(t *testing.T) {
	secret := []byte("0123456789abcdef")
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	a, _ := NewServer(secret, now)
	b, _ := NewServer(secret, now)
	other, _ := NewServer([]byte("fedcba9876543210"), now)
	client := netip.MustParseAddr("127.0.0.1")
	_, opt := a.Check(cookieQuery("0102030405060708"), client)
	if state, _ := b.Check(cookieQuery(opt.Cookie), client); state != Verified {
		t.Error("an instance with the same secret refused the cookie")
	}
	if state, _ := other.Check(cookieQuery(opt.Cookie), client); state != Unverified {
		t.Error("an instance with another secret accepted the cookie")
	}
	if _, err := NewServer([]byte("short"), now); err == nil {
		t.Error("a 5-byte secret accepted")
	}
}
