package cookies

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

var (
	a = netip.MustParseAddr("127.0.0.1")
	b = netip.MustParseAddr("127.0.0.2")
)

// reply is a reply to q carrying cookie (hex), with rcode.
func reply(q *dns.Msg, cookie string, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	if cookie != "" {
		m.SetEdns0(1232, false)
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
		if rcode > 0xf {
			o.SetExtendedRcode(uint16(rcode))
		}
	}
	return m
}

func query(j *Jar, addr netip.Addr) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion("example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	o := q.IsEdns0()
	o.Option = append(o.Option, j.Option(addr))
	return q
}

func TestClientCookies(t *testing.T) {
	j := New([]byte("secret"))
	ca, cb := j.Option(a).Cookie, j.Option(b).Cookie
	if len(ca) != 16 || len(cb) != 16 || ca == cb {
		t.Errorf("client cookies %q and %q: want 8 bytes each, one per server", ca, cb)
	}
	if again := New([]byte("secret")).Option(a).Cookie; again != ca {
		t.Errorf("same secret, cookie %q then %q", ca, again)
	}
	if other := New([]byte("another")).Option(a).Cookie; other == ca {
		t.Error("another secret gave the same cookie")
	}
}

func TestServerCookieIsLearnedAndSent(t *testing.T) {
	j := New([]byte("secret"))
	q := query(j, a)
	client := j.Option(a).Cookie
	const server = "0102030405060708090a0b0c0d0e0f10"
	fresh, err := j.Check(a, q, reply(q, client+server, dns.RcodeSuccess))
	if err != nil || fresh {
		t.Fatalf("Check: %v, %v", fresh, err)
	}
	if got := j.Option(a).Cookie; got != client+server {
		t.Errorf("next query's cookie %q, want %q", got, client+server)
	}
	if got := j.Option(b).Cookie; len(got) != 16 {
		t.Errorf("another server got %q: server cookies are per server", got)
	}
}

func TestCheck(t *testing.T) {
	const server = "0102030405060708"
	tests := []struct {
		name      string
		cookie    func(client string) string
		rcode     int
		wantFresh bool
		wantErr   error
	}{
		{"no cookie: a server without cookies", func(string) string { return "" }, dns.RcodeSuccess, false, nil},
		{"ours", func(c string) string { return c + server }, dns.RcodeSuccess, false, nil},
		{"someone else's", func(string) string { return "ffffffffffffffff" + server }, dns.RcodeSuccess, false, ErrMismatch},
		{"too short", func(string) string { return "ff" }, dns.RcodeSuccess, false, ErrMismatch},
		{"BADCOOKIE with a new server cookie", func(c string) string { return c + server }, dns.RcodeBadCookie, true, nil},
		{"ours, server cookie too short: ignored", func(c string) string { return c + "0102" }, dns.RcodeSuccess, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := New([]byte("secret"))
			q := query(j, a)
			fresh, err := j.Check(a, q, reply(q, tc.cookie(j.Option(a).Cookie), tc.rcode))
			if fresh != tc.wantFresh || !errors.Is(err, tc.wantErr) {
				t.Errorf("Check: %v, %v; want %v, %v", fresh, err, tc.wantFresh, tc.wantErr)
			}
		})
	}
}

func TestBadCookieTwiceIsNotFresh(t *testing.T) {
	j := New([]byte("secret"))
	const server = "0102030405060708"
	q := query(j, a)
	if fresh, _ := j.Check(a, q, reply(q, j.Option(a).Cookie+server, dns.RcodeBadCookie)); !fresh {
		t.Fatal("first BADCOOKIE not fresh")
	}
	again := query(j, a) // now carries the server cookie
	if fresh, _ := j.Check(a, again, reply(again, j.Option(a).Cookie, dns.RcodeBadCookie)); fresh {
		t.Error("BADCOOKIE for a query that had the server's cookie: asking again would loop")
	}
}
