package resolver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// table is a fake authoritative server: keys are "name TYPE" for one
// question, or a bare name for every question at or below it (referrals).
// The most specific key wins. A nil reply means the server stays silent.
type table map[string]*dns.Msg

func (t table) serve(q dns.Question) (*dns.Msg, bool) {
	if m, ok := t[strings.ToLower(q.Name)+" "+dns.TypeToString[q.Qtype]]; ok {
		return m, true
	}
	best, found := -1, false
	var reply *dns.Msg
	for k, m := range t {
		if strings.Contains(k, " ") || !dns.IsSubDomain(k, q.Name) {
			continue
		}
		if n := dns.CountLabel(k); n > best {
			best, reply, found = n, m, true
		}
	}
	return reply, found
}

// fakeNet is the resolver's network in tests: a table of fake servers by
// address (in the spirit of net's fakeDNSServer and Unbound's replay
// files). Unknown addresses and silent servers time out at once.
type fakeNet struct {
	mu      sync.Mutex
	servers map[netip.Addr]table
	sent    []string // "addr qname qtype", in order
}

func newFakeNet(servers map[string]table) *fakeNet {
	f := &fakeNet{servers: make(map[netip.Addr]table)}
	for addr, t := range servers {
		f.servers[netip.MustParseAddr(addr)] = t
	}
	return f
}

func (f *fakeNet) Exchange(ctx context.Context, query *dns.Msg, server netip.AddrPort, _ time.Duration) (Response, error) {
	q := query.Question[0]
	f.mu.Lock()
	f.sent = append(f.sent, fmt.Sprintf("%s %s %s", server.Addr(), strings.ToLower(q.Name), dns.TypeToString[q.Qtype]))
	t, ok := f.servers[server.Addr()]
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	if !ok {
		return Response{}, fmt.Errorf("%s: %w", server, ErrTimeout)
	}
	canned, ok := t.serve(q)
	if !ok || canned == nil {
		return Response{}, fmt.Errorf("%s: %w", server, ErrTimeout)
	}
	reply := canned.Copy()
	reply.Id = query.Id
	reply.Response = true
	reply.Opcode = query.Opcode
	reply.Question = []dns.Question{q}
	return Response{Msg: reply, RTT: time.Millisecond}, nil
}

// queries returns what was sent so far.
func (f *fakeNet) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// answer is an authoritative NOERROR reply with the given answer section.
func answer(t testing.TB, lines ...string) *dns.Msg {
	t.Helper()
	m := &dns.Msg{Answer: dnstest.RRs(t, lines...)}
	m.Authoritative = true
	return m
}

// negative is an authoritative NXDOMAIN or NODATA reply with an SOA.
func negative(t testing.TB, rcode int, soa string, chain ...string) *dns.Msg {
	t.Helper()
	m := &dns.Msg{Answer: dnstest.RRs(t, chain...), Ns: dnstest.RRs(t, soa)}
	m.Authoritative = true
	m.Rcode = rcode
	return m
}

// referral is a non-authoritative referral: NS records and glue.
func referralTo(t testing.TB, ns []string, glue ...string) *dns.Msg {
	t.Helper()
	return &dns.Msg{Ns: dnstest.RRs(t, ns...), Extra: dnstest.RRs(t, glue...)}
}

// failure is a reply with only an rcode.
func failure(rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.Rcode = rcode
	return m
}

// mapCache is a minimal Cache for resolver tests: exact keys, whole
// seconds, no bounds.
type mapCache struct {
	mu       sync.Mutex
	entries  map[string]cached
	staleFor time.Duration // how long expired answers are kept to serve stale
	refresh  map[string]bool
}

type cached struct {
	msg     *dns.Msg
	stored  time.Time
	expires time.Time
}

func newMapCache() *mapCache {
	return &mapCache{entries: make(map[string]cached), refresh: make(map[string]bool)}
}

func (c *mapCache) get(k string, now time.Time) (*dns.Msg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.msg.Copy(), true
}

func (c *mapCache) put(k string, m *dns.Msg, now time.Time) *dns.Msg {
	ttl := uint32(1 << 30)
	for _, rr := range append(append([]dns.RR{}, m.Answer...), append(m.Ns, m.Extra...)...) {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if ttl == 0 {
		return m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[k] = cached{msg: m.Copy(), stored: now, expires: now.Add(time.Duration(ttl) * time.Second)}
	delete(c.refresh, k)
	return m
}

func answerKey(q Query) string {
	k := "a " + canonical(q.Name) + " " + dns.TypeToString[q.Qtype]
	if q.DO {
		k += " do"
	}
	if q.CD {
		k += " cd"
	}
	return k
}

// Answer asks for a refresh in the last tenth of an entry's TTL, once.
func (c *mapCache) Answer(q Query, now time.Time) (*dns.Msg, bool, bool) {
	k := answerKey(q)
	m, ok := c.get(k, now)
	if !ok {
		return nil, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	refresh := e.expires.Sub(now)*10 <= e.expires.Sub(e.stored) && !c.refresh[k]
	if refresh {
		c.refresh[k] = true
	}
	return m, refresh, true
}
func (c *mapCache) Known(q Query, now time.Time) (*dns.Msg, bool) {
	return c.get(answerKey(q), now)
}
func (c *mapCache) StaleAnswer(q Query, now time.Time) (*dns.Msg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[answerKey(q)]
	if !ok || now.Before(e.expires) || !now.Before(e.expires.Add(c.staleFor)) {
		return nil, false
	}
	m := e.msg.Copy()
	for _, rr := range append(append([]dns.RR{}, m.Answer...), m.Ns...) {
		rr.Header().Ttl = 30
	}
	return m, true
}
func (c *mapCache) StoreAnswer(q Query, m *dns.Msg, now time.Time) *dns.Msg {
	return c.put(answerKey(q), m, now)
}
func (c *mapCache) Delegation(zone string, now time.Time) (*dns.Msg, bool) {
	return c.get("d "+canonical(zone), now)
}
func (c *mapCache) NameError(name string, now time.Time) (*dns.Msg, bool) {
	return c.get("nx "+canonical(name), now)
}
func (c *mapCache) StoreNameError(name string, m *dns.Msg, now time.Time) {
	_ = c.put("nx "+canonical(name), m, now)
}
func (c *mapCache) StoreDelegation(zone string, m *dns.Msg, now time.Time) {
	_ = c.put("d "+canonical(zone), m, now)
}

// testHints is one root server at 127.0.0.1.
var testHints = Hints{{Name: "a.root.test.", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}}

// newTestResolver builds a resolver over net with a fixed random seed.
func newTestResolver(t testing.TB, net Exchanger, c Cache) *Resolver {
	t.Helper()
	return newSeededResolver(t, net, c, 1)
}

// newSeededResolver builds a resolver over net whose random choices
// (server order, query IDs) follow seed.
func newSeededResolver(t testing.TB, net Exchanger, c Cache, seed uint64) *Resolver {
	t.Helper()
	return newResolverWith(t, net, c, func(o *Options) { o.Rand = rand.NewPCG(seed, seed) })
}

// newResolverWith is newTestResolver with its options changed by edit.
func newResolverWith(t testing.TB, net Exchanger, c Cache, edit func(*Options)) *Resolver {
	t.Helper()
	o := Options{
		Hints:        testHints,
		UpstreamPort: 53,
		Exchanger:    net,
		Cache:        c,
		Clock:        dnstest.NewClock(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)),
		Rand:         rand.NewPCG(1, 1),
		Timeout:      5 * time.Second,
	}
	edit(&o)
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}
