package resolver

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// cookieOf returns the COOKIE option of m in hex, "" if none.
func cookieOf(m *dns.Msg) string {
	c, _ := dnscookie.Of(m)
	return c
}

func withCookie(m *dns.Msg, cookie string, rcode int) *dns.Msg {
	m.SetEdns0(1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	m.Rcode = rcode
	if rcode > 0xf {
		opt.SetExtendedRcode(uint16(rcode))
	}
	return m
}

func TestCookiesWithAServerThatWantsThem(t *testing.T) {
	const serverCookie = "a1a2a3a4a5a6a7a8"
	fake := newFakeNet(testTree(t))
	var mu sync.Mutex
	var seen []string // cookies example.test's server got
	net := ExchangerFunc(func(ctx context.Context, q *dns.Msg, s netip.AddrPort, d time.Duration) (Response, error) {
		resp, err := fake.Exchange(ctx, q, s, d)
		if err != nil || s.Addr() != netip.MustParseAddr("127.0.0.3") {
			return resp, err
		}
		got := cookieOf(q)
		mu.Lock()
		seen = append(seen, got)
		mu.Unlock()
		client := got[:16]
		if got != client+serverCookie {
			// RFC 7873 section 5.2.3: no valid server cookie: BADCOOKIE.
			bad := new(dns.Msg)
			bad.SetReply(q)
			resp.Msg = withCookie(bad, client+serverCookie, dns.RcodeBadCookie)
			return resp, nil
		}
		resp.Msg = withCookie(resp.Msg, got, resp.Msg.Rcode)
		return resp, nil
	})
	fake.silence("127.0.0.4") // only the cookie server answers for example.test
	r := newTestResolver(t, net, newMapCache())
	defer r.Close()
	for _, name := range []string{"www.example.test.", "ns1.example.test."} {
		if _, err := r.Resolve(t.Context(), dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || len(seen[0]) != 16 || seen[1] != seen[0]+serverCookie || seen[2] != seen[1] {
		t.Errorf("cookies sent %q; want the client cookie alone, then with the server cookie after BADCOOKIE, then with it again", seen)
	}
}

func TestForgedCookieIsRefused(t *testing.T) {
	fake := newFakeNet(testTree(t))
	net := ExchangerFunc(func(ctx context.Context, q *dns.Msg, s netip.AddrPort, d time.Duration) (Response, error) {
		resp, err := fake.Exchange(ctx, q, s, d)
		if err == nil && s.Addr() == netip.MustParseAddr("127.0.0.3") {
			// A forger who does not know our client cookie.
			forged := withCookie(resp.Msg.Copy(), "00000000000000000102030405060708", dns.RcodeSuccess)
			forged.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
				A: []byte{192, 0, 2, 66}}}
			resp.Msg = forged
		}
		return resp, err
	})
	fake.silence("127.0.0.4") // the forged server is the only one left
	r := newTestResolver(t, net, newMapCache())
	defer r.Close()
	res, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if err == nil {
		t.Fatalf("answered %v from a reply with someone else's cookie", res.Reply.Answer)
	}
	if !errors.Is(err, ErrBadReply) {
		t.Errorf("error %v, want a bad reply", err)
	}
}
