package server

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// TestHandlerCookies: the handler answers a client cookie with a server
// cookie, accepts it back, answers a malformed one FORMERR, and counts
// each.
func TestHandlerCookies(t *testing.T) {
	cookies, err := dnscookie.NewServer([]byte("0123456789abcdef"), nil)
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
	c, _ := dnscookie.Of(m)
	return c
}
