package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/server"
)

// askMsg sends q to addr over UDP and fails the test on no reply.
func askMsg(t *testing.T, addr string, q *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Timeout: 10 * time.Second}
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%v: %v", q.Question, err)
	}
	return r
}

// TestRateLimitThroughServe: `serve --ratelimit-qps 2 --ratelimit-burst 4`
// answers a client's first four queries of a burst and refuses the rest,
// and says so in /stats.
func TestRateLimitThroughServe(t *testing.T) {
	srv := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort), "--ratelimit-qps", "2", "--ratelimit-burst", "4"}
	})
	answered, refused := 0, 0
	start := time.Now()
	for range 12 {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		switch r := askMsg(t, srv.addr.String(), q); r.Rcode {
		case dns.RcodeSuccess:
			answered++
		case dns.RcodeRefused:
			refused++
		default:
			t.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
		}
	}
	// The burst, and the tokens earned (2 a second) while asking.
	most := 4 + int(2*time.Since(start).Seconds()) + 1
	if answered < 4 || answered > most || refused != 12-answered {
		t.Errorf("%d answered, %d refused; want the burst of 4 (and at most %d in all) answered, the rest refused", answered, refused, most)
	}
	var st server.Stats
	if err := json.Unmarshal(httpGet(t, "http://"+srv.admin.String()+"/stats"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Queries.RateLimited.Refused != uint64(refused) {
		t.Errorf("/stats ratelimited.refused = %d, want %d", st.Queries.RateLimited.Refused, refused)
	}
}

// TestHandlerFeaturesThroughServe: ANY, CHAOS, cookies and the cap on
// recursions, as a client sees them from `serve`.
func TestHandlerFeaturesThroughServe(t *testing.T) {
	srv := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort), "--server-identity", "lab-1", "--limits-max-recursions", "1"}
	})
	addr := srv.addr.String()

	t.Run("ANY gets RFC 8482's HINFO", func(t *testing.T) {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeANY)
		r := askMsg(t, addr, q)
		if h, ok := firstHINFO(r); !ok || h.Cpu != "RFC8482" {
			t.Errorf("ANY: %v, want one HINFO \"RFC8482\"", r.Answer)
		}
	})
	t.Run("CHAOS id.server and version.bind", func(t *testing.T) {
		for name, want := range map[string]string{"id.server.": "lab-1", "version.bind.": "rootwalk "} {
			q := new(dns.Msg)
			q.SetQuestion(name, dns.TypeTXT)
			q.Question[0].Qclass = dns.ClassCHAOS
			r := askMsg(t, addr, q)
			if len(r.Answer) != 1 || !strings.HasPrefix(strings.Join(r.Answer[0].(*dns.TXT).Txt, ""), want) {
				t.Errorf("%s CH TXT: %v, want %q", name, r.Answer, want)
			}
		}
	})
	t.Run("cookies", func(t *testing.T) {
		ask := func(cookie string) string {
			q := new(dns.Msg)
			q.SetQuestion("www.example.com.", dns.TypeA)
			q.SetEdns0(1232, false)
			o := q.IsEdns0()
			o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
			r := askMsg(t, addr, q)
			for _, opt := range r.IsEdns0().Option {
				if c, ok := opt.(*dns.EDNS0_COOKIE); ok {
					return c.Cookie
				}
			}
			return ""
		}
		got := ask("0102030405060708")
		if len(got) != 48 || got[:16] != "0102030405060708" {
			t.Fatalf("server cookie %q, want our client cookie and 16 bytes more", got)
		}
		if again := ask(got); again != got {
			t.Errorf("the cookie given back came back as %q, want %q", again, got)
		}
	})
	t.Run("past the recursion cap", func(t *testing.T) {
		// One slot: a query whose servers are all silent takes it for
		// seconds; meanwhile a cold name gets SERVFAIL at once and a
		// cached one its answer.
		q := new(dns.Msg)
		q.SetQuestion("www.example.org.", dns.TypeA)
		askMsg(t, addr, q) // cached now
		slow := make(chan *dns.Msg, 1)
		go func() {
			q := new(dns.Msg)
			q.SetQuestion("www.dead.com.", dns.TypeA)
			c := &dns.Client{Timeout: 10 * time.Second}
			r, _, _ := c.Exchange(q, addr) // its answer is not what is tested
			slow <- r
		}()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var st server.Stats
			if err := json.Unmarshal(httpGet(t, "http://"+srv.admin.String()+"/stats"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Queries.Recursions.Active > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the slow query never took the slot")
			}
			time.Sleep(10 * time.Millisecond) // polling /stats
		}
		cold := new(dns.Msg)
		cold.SetQuestion("www.example.net.", dns.TypeA)
		cold.SetEdns0(1232, false)
		start := time.Now()
		r := askMsg(t, addr, cold)
		if r.Rcode != dns.RcodeServerFailure || time.Since(start) > time.Second {
			t.Errorf("a cold name past the cap: %s after %v, want SERVFAIL at once", dns.RcodeToString[r.Rcode], time.Since(start))
		}
		if r := askMsg(t, addr, q); r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
			t.Errorf("a cached name past the cap: %s %v, want its answer", dns.RcodeToString[r.Rcode], r.Answer)
		}
		<-slow
	})
}

func firstHINFO(m *dns.Msg) (*dns.HINFO, bool) {
	if len(m.Answer) != 1 {
		return nil, false
	}
	h, ok := m.Answer[0].(*dns.HINFO)
	return h, ok
}
