package zones

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// cookieQuery asks for www.cookie-strict.com. A with EDNS and, unless
// cookie is "", that COOKIE option (hex).
func cookieQuery(cookie string) *dns.Msg {
	m := withEDNS(query("www.cookie-strict.com.", dns.TypeA), 1232, false, 0)
	if cookie != "" {
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	}
	return m
}

// replyCookie returns the COOKIE option of m in hex, "" if it has none.
func replyCookie(m *dns.Msg) string {
	c, _ := dnscookie.Of(m)
	return c
}

// ask serves q to h over UDP and returns the reply as a client reads it,
// unpacked from the wire (so an extended rcode comes from the OPT record).
func ask(t *testing.T, h *Handler, q *dns.Msg) *dns.Msg {
	t.Helper()
	w := newRecorder("udp")
	h.ServeDNS(w, q)
	raw := w.ReplyBytes()
	if raw == nil {
		t.Fatal("no reply")
	}
	m := new(dns.Msg)
	if err := m.Unpack(raw); err != nil {
		t.Fatalf("unpack the reply: %v", err)
	}
	return m
}

const clientCookie = "0102030405060708"

// TestHandlerCookies: a server with cookies answers a client cookie with a
// server cookie, accepts that back, answers a malformed one FORMERR, and
// sends none to a query without one; a FaultBadCookie server answers
// BADCOOKIE, with no record and a fresh cookie, until the query brings the
// server cookie it made, and answers queries without cookies as usual.
func TestHandlerCookies(t *testing.T) {
	c, err := dnscookie.NewServer([]byte("0123456789abcdef"), nil)
	if err != nil {
		t.Fatal(err)
	}
	zs := []*Zone{labZone(t, "cookie-strict.com.")}
	polite, err := NewHandler(HandlerOptions{Zones: zs, Cookies: c, Name: "polite", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	first := ask(t, polite, cookieQuery(clientCookie))
	got := replyCookie(first)
	if first.Rcode != dns.RcodeSuccess || len(first.Answer) != 1 || len(got) != 48 || got[:16] != clientCookie {
		t.Fatalf("a client cookie got %s with %d answers and cookie %q; want NOERROR, the answer, our client cookie and a server cookie",
			dns.RcodeToString[first.Rcode], len(first.Answer), got)
	}
	if again := ask(t, polite, cookieQuery(got)); replyCookie(again) != got || len(again.Answer) != 1 {
		t.Errorf("the server cookie brought back: cookie %q and %d answers, want %q and 1", replyCookie(again), len(again.Answer), got)
	}
	if bad := ask(t, polite, cookieQuery("0102")); bad.Rcode != dns.RcodeFormatError || len(bad.Answer) != 0 {
		t.Errorf("a malformed cookie got %s with %d answers, want FORMERR and none", dns.RcodeToString[bad.Rcode], len(bad.Answer))
	}
	if none := ask(t, polite, cookieQuery("")); replyCookie(none) != "" || len(none.Answer) != 1 {
		t.Errorf("a query without a cookie got cookie %q and %d answers, want none and 1", replyCookie(none), len(none.Answer))
	}
	for state, want := range map[dnscookie.State]uint64{dnscookie.Unverified: 1, dnscookie.Verified: 1, dnscookie.Malformed: 1, dnscookie.Absent: 1} {
		if n := polite.Cookies(state); n != want {
			t.Errorf("cookies counted %s: %d, want %d", state, n, want)
		}
	}

	strict, err := NewHandler(HandlerOptions{Zones: zs, Fault: FaultBadCookie, Name: "strict", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	refused := ask(t, strict, cookieQuery(clientCookie))
	fresh := replyCookie(refused)
	if refused.Rcode != dns.RcodeBadCookie || len(refused.Answer)+len(refused.Ns) != 0 || len(fresh) != 48 || fresh[:16] != clientCookie {
		t.Fatalf("a client cookie alone got %s with %d records and cookie %q; want BADCOOKIE, no record, a new server cookie",
			dns.RcodeToString[refused.Rcode], len(refused.Answer)+len(refused.Ns), fresh)
	}
	if refused.Authoritative {
		t.Error("BADCOOKIE came with AA set")
	}
	// Another server's cookie (made under another secret) is no better.
	if other := ask(t, strict, cookieQuery(got)); other.Rcode != dns.RcodeBadCookie {
		t.Errorf("another server's cookie got %s, want BADCOOKIE", dns.RcodeToString[other.Rcode])
	}
	answered := ask(t, strict, cookieQuery(fresh))
	if answered.Rcode != dns.RcodeSuccess || len(answered.Answer) != 1 || replyCookie(answered) != fresh {
		t.Errorf("its own server cookie got %s with %d answers and cookie %q; want NOERROR, the answer, the same cookie",
			dns.RcodeToString[answered.Rcode], len(answered.Answer), replyCookie(answered))
	}
	if plain := ask(t, strict, cookieQuery("")); plain.Rcode != dns.RcodeSuccess || len(plain.Answer) != 1 {
		t.Errorf("a query without a cookie got %s with %d answers, want NOERROR and the answer", dns.RcodeToString[plain.Rcode], len(plain.Answer))
	}
	noEDNS := newRecorder("udp")
	strict.ServeDNS(noEDNS, query("www.cookie-strict.com.", dns.TypeA))
	if m := noEDNS.Reply(); m == nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("a query without EDNS got %v, want the answer", m)
	}
}
