package cache

import (
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const soa = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"

func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	return dnstest.RRs(t, s)[0]
}

func msg(t testing.TB, rcode int, answer []string, ns ...string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.Rcode = rcode
	for _, s := range answer {
		m.Answer = append(m.Answer, rr(t, s))
	}
	for _, s := range ns {
		m.Ns = append(m.Ns, rr(t, s))
	}
	return m
}

// aa marks m as an authoritative reply.
func aa(m *dns.Msg) *dns.Msg {
	m.Authoritative = true
	return m
}

func query(name string, qtype uint16) Query {
	return Query{Question: dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}}
}

func newCache(t testing.TB, opts Options) *Cache {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// answer is Answer without the refresh flag.
func answer(c *Cache, q Query, now time.Time) (*dns.Msg, bool) {
	m, _, ok := c.Answer(q, now)
	return m, ok
}

// storeA caches an authoritative answer of one A record for name.
func storeA(t testing.TB, c *Cache, name string, ttl int, now time.Time) {
	t.Helper()
	m := aa(msg(t, dns.RcodeSuccess, []string{name + " " + strconv.Itoa(ttl) + " IN A 192.0.2.1"}))
	c.StoreAnswer(query(name, dns.TypeA), m, now)
}
