package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// TestLabCases asks rootwalk every case of the lab over UDP (TCP after
// truncation) and checks rcode, answer records with their TTLs, the SOA of
// negative answers and the flags.
func TestLabCases(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	for _, c := range labCases {
		t.Run(c.name, func(t *testing.T) {
			checkCase(t, c, askFull(t, s.addr, c.qname, c.qtype), true)
		})
	}
}

// TestSecondQueryIsCached: the same question again sends nothing upstream,
// and the TTL has counted down by the time that passed.
func TestSecondQueryIsCached(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	for _, c := range labCases {
		if c.rcode == dns.RcodeServerFailure {
			continue // failures are not cached
		}
		t.Run(c.name, func(t *testing.T) {
			first := askFull(t, s.addr, c.qname, c.qtype)
			before := s.lab.Queries()
			s.clock.Advance(3 * time.Second)
			second := askFull(t, s.addr, c.qname, c.qtype)
			if after := s.lab.Queries(); after != before {
				t.Errorf("second query sent %d queries to the lab, want none", after-before)
			}
			if second.Rcode != first.Rcode || !slices.Equal(dnstest.Set(second.Answer), dnstest.Set(first.Answer)) {
				t.Errorf("cached reply differs:\nfirst  %v\nsecond %v", first, second)
			}
			for i, rr := range second.Answer {
				if want := first.Answer[i].Header().Ttl - 3; rr.Header().Ttl != want {
					t.Errorf("%s: TTL %d after 3 s, want %d", rr.Header().Name, rr.Header().Ttl, want)
				}
			}
		})
	}
}

// TestCacheExpires: once the TTL has run out the lab is asked again.
func TestCacheExpires(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	askFull(t, s.addr, "short.example.com.", dns.TypeA)
	before := s.lab.Queries()
	s.clock.Advance(5 * time.Second)
	reply := askFull(t, s.addr, "short.example.com.", dns.TypeA)
	if s.lab.Queries() == before {
		t.Error("an expired answer was served from the cache")
	}
	if len(reply.Answer) != 1 || reply.Answer[0].Header().Ttl != 5 {
		t.Errorf("answer after expiry %v, want the fresh record with TTL 5", reply.Answer)
	}
}

// TestNegativeAnswersAreCached: NXDOMAIN is cached for the SOA's negative
// TTL (RFC 2308), here 300 s.
func TestNegativeAnswersAreCached(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	askFull(t, s.addr, "nope.example.com.", dns.TypeA)
	before := s.lab.Queries()
	s.clock.Advance(299 * time.Second)
	askFull(t, s.addr, "nope.example.com.", dns.TypeA)
	if s.lab.Queries() != before {
		t.Error("NXDOMAIN not served from the cache within its negative TTL")
	}
	s.clock.Advance(time.Second)
	askFull(t, s.addr, "nope.example.com.", dns.TypeA)
	if s.lab.Queries() == before {
		t.Error("NXDOMAIN served from the cache after its negative TTL")
	}
}

// TestDelegationsAreCached: a second name under com. does not ask the root
// again, and a second name in example.com. asks only example.com.'s servers.
func TestDelegationsAreCached(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	if err := s.resolver.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	askFull(t, s.addr, "www.example.com.", dns.TypeA)
	before := s.lab.Queries()
	askFull(t, s.addr, "mail.example.com.", dns.TypeA)
	if n := s.lab.Queries() - before; n != 1 {
		t.Errorf("mail.example.com after www.example.com took %d queries, want 1 (to example.com's servers)", n)
	}
	before = s.lab.Queries()
	askFull(t, s.addr, "www.partly-lame.com.", dns.TypeA)
	// com. is cached: partly-lame.com's referral, then one or two servers
	// (the lame one may be asked first). The root is not asked.
	if n := s.lab.Queries() - before; n < 2 || n > 3 {
		t.Errorf("www.partly-lame.com took %d queries, want 2 or 3", n)
	}
}

// TestTruncationAndTCP: a UDP client with a 1232-byte buffer gets TC for
// big.example.com TXT, and the whole RRset over TCP; a client without EDNS
// is held to 512 bytes.
func TestTruncationAndTCP(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	udp := ask(t, s.addr, "udp", "big.example.com.", dns.TypeTXT)
	if !udp.Truncated {
		t.Errorf("UDP reply of %d records not truncated", len(udp.Answer))
	}
	tcp := ask(t, s.addr, "tcp", "big.example.com.", dns.TypeTXT)
	if tcp.Truncated || len(tcp.Answer) != 40 {
		t.Errorf("TCP reply: TC %v, %d records, want 40", tcp.Truncated, len(tcp.Answer))
	}
	q := new(dns.Msg)
	q.SetQuestion("big.example.com.", dns.TypeTXT)
	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
	plain, _, err := c.Exchange(q, s.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	plain.Compress = true // as it came over the wire
	if b, _ := plain.Pack(); !plain.Truncated || len(b) > 512 || plain.IsEdns0() != nil {
		t.Errorf("reply without EDNS: TC %v, %d bytes, OPT %v; want TC, at most 512 bytes, no OPT", plain.Truncated, len(b), plain.IsEdns0() != nil)
	}
}

// TestFailuresAnswerInTime: every failing case gets SERVFAIL, with an
// Extended DNS Error, well before a stub's 5 s retry.
func TestFailuresAnswerInTime(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	for _, c := range labCases {
		if c.rcode != dns.RcodeServerFailure {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			reply := ask(t, s.addr, "udp", c.qname, c.qtype)
			if took := time.Since(start); took > 4500*time.Millisecond {
				t.Errorf("answered after %v; the resolver's deadline is 4 s", took)
			}
			if reply.Rcode != dns.RcodeServerFailure {
				t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[reply.Rcode])
			}
			var ede *dns.EDNS0_EDE
			if opt := reply.IsEdns0(); opt != nil {
				for _, o := range opt.Option {
					if e, ok := o.(*dns.EDNS0_EDE); ok {
						ede = e
					}
				}
			}
			if ede == nil {
				t.Errorf("no Extended DNS Error in %v", reply)
			}
		})
	}
}

// TestConcurrentClients: many clients at once get the right answers.
func TestConcurrentClients(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	var cases []labCase
	for _, c := range labCases {
		if c.rcode != dns.RcodeServerFailure {
			cases = append(cases, c)
		}
	}
	want := make(map[string][]string, len(cases)) // computed here: t.Fatal belongs to this goroutine
	for _, c := range cases {
		want[c.name] = dnstest.Set(dnstest.RRs(t, c.answer...))
	}
	errs := make(chan error, 4*len(cases))
	for round := range 4 {
		for _, c := range cases {
			go func() {
				q := new(dns.Msg)
				q.SetQuestion(c.qname, c.qtype)
				q.SetEdns0(4096, false)
				cl := &dns.Client{Net: []string{"udp", "tcp"}[round%2], Timeout: 10 * time.Second, UDPSize: 4096}
				reply, _, err := cl.Exchange(q, s.addr.String())
				switch {
				case err != nil:
					errs <- err
				case reply.Truncated:
					errs <- nil // not checked further; TestTruncationAndTCP covers it
				case reply.Rcode != c.rcode || !slices.Equal(dnstest.Set(reply.Answer), want[c.name]):
					errs <- fmt.Errorf("%s: got %s %q", c.name, dns.RcodeToString[reply.Rcode], dnstest.Set(reply.Answer))
				default:
					errs <- nil
				}
			}()
		}
	}
	for range 4 * len(cases) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestQuestionCaseIsEchoed: the client's spelling of the name comes back.
func TestQuestionCaseIsEchoed(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	reply := askFull(t, s.addr, "WWW.Example.COM.", dns.TypeA)
	if reply.Question[0].Name != "WWW.Example.COM." {
		t.Errorf("question %q, want the client's spelling", reply.Question[0].Name)
	}
	if len(reply.Answer) != 1 || !strings.EqualFold(reply.Answer[0].Header().Name, "www.example.com.") {
		t.Errorf("answer %v", reply.Answer)
	}
}
