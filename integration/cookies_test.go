package integration

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// TestUpstreamCookies: rootwalk sends a DNS cookie (RFC 7873) with every
// query to the lab's authorities, all of which answer cookies, and brings
// each server's cookie back to it, so that only its first query to a
// server lacks one; it never sends a malformed cookie.
func TestUpstreamCookies(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	// Five names of one zone, none cached: by the pigeonhole principle at
	// least three go to an example.com server that has answered before.
	for i := range 5 {
		name := fmt.Sprintf("host%d.example.com.", i)
		if reply := ask(t, s.addr, "udp", name, dns.TypeA); reply.Rcode != dns.RcodeNameError {
			t.Fatalf("%s: %s, want NXDOMAIN", name, dns.RcodeToString[reply.Rcode])
		}
	}
	without := lab.Cookies(dnscookie.Absent)
	first := lab.Cookies(dnscookie.Unverified)
	back := lab.Cookies(dnscookie.Verified)
	t.Logf("queries with EDNS seen by the lab: %d without a cookie, %d with a client cookie only, %d with the server's cookie",
		without, first, back)
	if without != 0 {
		t.Errorf("%d queries with EDNS carried no cookie", without)
	}
	if back < 3 {
		t.Errorf("%d queries brought a server its own cookie back, want at least 3", back)
	}
	if servers := uint64(len(lab.Servers())); first > servers {
		t.Errorf("%d queries carried a client cookie alone, more than the lab's %d servers: server cookies are not remembered", first, servers)
	}
	if bad := lab.Cookies(dnscookie.Malformed); bad != 0 {
		t.Errorf("%d malformed cookies sent", bad)
	}
}

// TestUpstreamBadCookie: the only server of cookie-strict.com. answers
// BADCOOKIE, with a server cookie, to a query without that cookie;
// rootwalk asks again with it (RFC 7873 section 5.3) and the client gets
// the answer.
func TestUpstreamBadCookie(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	strict := netip.MustParseAddr("127.53.2.41")
	reply := ask(t, s.addr, "udp", "www.cookie-strict.com.", dns.TypeA)
	if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 || reply.Answer[0].String() != "www.cookie-strict.com.\t3600\tIN\tA\t192.0.2.92" {
		t.Fatalf("www.cookie-strict.com.: %s %v, want the A record 192.0.2.92", dns.RcodeToString[reply.Rcode], reply.Answer)
	}
	if n := lab.CookiesTo(strict, dnscookie.Unverified); n != 1 {
		t.Errorf("the strict server answered BADCOOKIE %d times, want once", n)
	}
	if n := lab.CookiesTo(strict, dnscookie.Verified); n < 1 {
		t.Error("no query brought the strict server its cookie back")
	}
	// The cookie is remembered: the next question goes through at once.
	reply = ask(t, s.addr, "udp", "mail.cookie-strict.com.", dns.TypeA)
	if reply.Rcode != dns.RcodeNameError {
		t.Errorf("mail.cookie-strict.com.: %s, want NXDOMAIN", dns.RcodeToString[reply.Rcode])
	}
	if n := lab.CookiesTo(strict, dnscookie.Unverified); n != 1 {
		t.Errorf("after a second question, the strict server answered BADCOOKIE %d times, want still once", n)
	}
}
