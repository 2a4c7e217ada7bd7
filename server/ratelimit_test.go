package server

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
)

// everyoneACL allows every address: these tests are about what comes
// after the ACL. The addresses are only ever written into recorders; no
// packet is sent.
var everyoneACL = ACL{Allow: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}

// step is one query of a scenario: the clock moves by advance, then
// client asks; want is the rcode of the reply, or -1 for none at all.
type step struct {
	advance time.Duration
	client  string
	want    int
}

const noReply = -1

// TestHandlerTurnsAway runs scenarios against the ACL and the rate limit
// with a clock moved by hand, and checks each reply and the counters.
func TestHandlerTurnsAway(t *testing.T) {
	outside := "203.0.113.7"
	tests := []struct {
		name        string
		opts        HandlerOptions
		steps       []step
		wantACL     ActionCounts
		wantLimited ActionCounts
		wantReplies uint64
		wantClients int64
	}{
		{
			name:        "ACL refuse is the default",
			opts:        HandlerOptions{ACL: loopbackACL},
			steps:       []step{{client: outside, want: dns.RcodeRefused}, {client: "127.0.0.1", want: dns.RcodeSuccess}},
			wantACL:     ActionCounts{Refused: 1},
			wantReplies: 2,
		},
		{
			name:        "ACL drop sends nothing",
			opts:        HandlerOptions{ACL: loopbackACL, ACLAction: ActionDrop},
			steps:       []step{{client: outside, want: noReply}, {client: "::ffff:203.0.113.7", want: noReply}, {client: "::1", want: dns.RcodeSuccess}},
			wantACL:     ActionCounts{Dropped: 2},
			wantReplies: 1,
		},
		{
			name: "ACL first: a refused client spends no tokens",
			opts: HandlerOptions{ACL: loopbackACL, RateLimit: RateLimit{QPS: 1, Burst: 1}},
			steps: []step{
				{client: outside, want: dns.RcodeRefused}, {client: outside, want: dns.RcodeRefused},
				{client: "127.0.0.1", want: dns.RcodeSuccess},
			},
			wantACL:     ActionCounts{Refused: 2},
			wantReplies: 3,
			wantClients: 1,
		},
		{
			name: "rate limit refuse: burst, then one a second",
			opts: HandlerOptions{ACL: everyoneACL, RateLimit: RateLimit{QPS: 1, Burst: 2}},
			steps: []step{
				{client: "192.0.2.1", want: dns.RcodeSuccess}, {client: "192.0.2.1", want: dns.RcodeSuccess},
				{client: "192.0.2.1", want: dns.RcodeRefused},
				{advance: 999 * time.Millisecond, client: "192.0.2.1", want: dns.RcodeRefused},
				{advance: time.Millisecond, client: "192.0.2.1", want: dns.RcodeSuccess},
				{client: "192.0.2.1", want: dns.RcodeRefused},
			},
			wantLimited: ActionCounts{Refused: 3},
			wantReplies: 6,
			wantClients: 1,
		},
		{
			name: "rate limit drop",
			opts: HandlerOptions{ACL: everyoneACL, RateLimit: RateLimit{QPS: 1, Burst: 1, Action: ActionDrop}},
			steps: []step{
				{client: "192.0.2.1", want: dns.RcodeSuccess}, {client: "192.0.2.1", want: noReply},
				{client: "192.0.2.1", want: noReply}, {advance: time.Second, client: "192.0.2.1", want: dns.RcodeSuccess},
			},
			wantLimited: ActionCounts{Dropped: 2},
			wantReplies: 2,
			wantClients: 1,
		},
		{
			name: "each IPv4 address is a client",
			opts: HandlerOptions{ACL: everyoneACL, RateLimit: RateLimit{QPS: 1, Burst: 1}},
			steps: []step{
				{client: "192.0.2.1", want: dns.RcodeSuccess}, {client: "192.0.2.1", want: dns.RcodeRefused},
				{client: "192.0.2.2", want: dns.RcodeSuccess}, {client: "::ffff:192.0.2.2", want: dns.RcodeRefused},
			},
			wantLimited: ActionCounts{Refused: 2},
			wantReplies: 4,
			wantClients: 2,
		},
		{
			name: "an IPv6 /64 is one client",
			opts: HandlerOptions{ACL: everyoneACL, RateLimit: RateLimit{QPS: 1, Burst: 2}},
			steps: []step{
				{client: "2001:db8:1:2::1", want: dns.RcodeSuccess}, {client: "2001:db8:1:2:ffff::9", want: dns.RcodeSuccess},
				{client: "2001:db8:1:2:a:b:c:d", want: dns.RcodeRefused}, {client: "2001:db8:1:3::1", want: dns.RcodeSuccess},
			},
			wantLimited: ActionCounts{Refused: 1},
			wantReplies: 4,
			wantClients: 2,
		},
		{
			name: "burst 0 is twice the rate, rounded up",
			opts: HandlerOptions{ACL: everyoneACL, RateLimit: RateLimit{QPS: 1.5}},
			steps: []step{
				{client: "192.0.2.1", want: dns.RcodeSuccess}, {client: "192.0.2.1", want: dns.RcodeSuccess},
				{client: "192.0.2.1", want: dns.RcodeSuccess}, {client: "192.0.2.1", want: dns.RcodeRefused},
			},
			wantLimited: ActionCounts{Refused: 1},
			wantReplies: 4,
			wantClients: 1,
		},
		{
			name: "a fractional rate: one query every ten seconds",
			opts: HandlerOptions{ACL: everyoneACL, RateLimit: RateLimit{QPS: 0.1, Burst: 1}},
			steps: []step{
				{client: "192.0.2.1", want: dns.RcodeSuccess}, {advance: 9 * time.Second, client: "192.0.2.1", want: dns.RcodeRefused},
				{advance: time.Second, client: "192.0.2.1", want: dns.RcodeSuccess},
			},
			wantLimited: ActionCounts{Refused: 1},
			wantReplies: 3,
			wantClients: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := dnstest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			m := NewMetrics()
			opts := tc.opts
			opts.Resolver, opts.Metrics, opts.Clock = answering(t, 1), m, clock
			h, err := NewHandler(opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				w := udpClient(s.client)
				q := newQuery("www.example.com.", dns.TypeTXT, 1232)
				h.ServeDNS(w, q)
				switch {
				case s.want == noReply && len(w.Msgs) != 0:
					t.Errorf("step %d (%s): got %s, want no reply", i, s.client, dns.RcodeToString[w.Reply().Rcode])
				case s.want == noReply:
				case len(w.Msgs) != 1:
					t.Errorf("step %d (%s): got %d replies, want one %s", i, s.client, len(w.Msgs), dns.RcodeToString[s.want])
				case w.Reply().Rcode != s.want:
					t.Errorf("step %d (%s): got %s, want %s", i, s.client, dns.RcodeToString[w.Reply().Rcode], dns.RcodeToString[s.want])
				default:
					checkTurnedAwayReply(t, q, w.Reply(), opts.ACL.Allows(clientAddr(w.RemoteAddr())))
				}
			}
			got := m.Snapshot()
			if got.ACL != tc.wantACL || got.RateLimited != tc.wantLimited || got.Total != tc.wantReplies || got.RateClients != tc.wantClients {
				t.Errorf("got acl %+v, rate limited %+v, %d replies, %d clients; want %+v, %+v, %d, %d",
					got.ACL, got.RateLimited, got.Total, got.RateClients, tc.wantACL, tc.wantLimited, tc.wantReplies, tc.wantClients)
			}
		})
	}
}

// checkTurnedAwayReply checks a reply to a query that used EDNS: the
// question echoed, an OPT, and an EDE 18 (Prohibited, RFC 8914 section
// 4.19) exactly when the ACL refused the client.
func checkTurnedAwayReply(t *testing.T, q, got *dns.Msg, allowed bool) {
	t.Helper()
	if got.Id != q.Id || len(got.Question) != 1 || got.Question[0] != q.Question[0] || got.IsEdns0() == nil {
		t.Errorf("reply %v does not echo the query %v with an OPT", got, q)
	}
	ede := findEDE(got)
	switch {
	case !allowed && (ede == nil || ede.InfoCode != dns.ExtendedErrorCodeProhibited):
		t.Errorf("ACL refusal with EDE %v, want code %d (Prohibited)", ede, dns.ExtendedErrorCodeProhibited)
	case allowed && ede != nil:
		t.Errorf("EDE %v, want none", ede)
	}
}

// TestRateLimitedNotResolved checks that a query over its rate never
// reaches the resolver.
func TestRateLimitedNotResolved(t *testing.T) {
	var asked atomic.Int64
	res := fakeResolver(func(ctx context.Context, q resolver.Query) (*resolver.Result, error) {
		asked.Add(1)
		return answering(t, 1)(ctx, q)
	})
	clock := dnstest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	h, err := NewHandler(HandlerOptions{Resolver: res, ACL: loopbackACL, RateLimit: RateLimit{QPS: 5, Burst: 5}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeTXT, 0))
	}
	if got := asked.Load(); got != 5 {
		t.Errorf("resolver asked %d times for 50 queries within the burst of 5, want 5", got)
	}
}

func TestRateKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
		{"2001:db8:1:2::", "2001:db8:1:2::"},
		{"fe80::1%eth0", "fe80::"},
		{"::1", "::"},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := rateKey(netip.MustParseAddr(tc.addr)); got != netip.MustParseAddr(tc.want) {
				t.Errorf("rateKey(%s) = %s, want %s", tc.addr, got, tc.want)
			}
		})
	}
	if got := rateKey(netip.Addr{}); got.IsValid() {
		t.Errorf("rateKey of no address = %v, want the zero Addr (one shared client)", got)
	}
}

// TestRateLimiterTable checks the bound on the table of clients: the
// client seen longest ago is forgotten first, and idle clients, whose
// buckets are full again, are forgotten as new ones come.
func TestRateLimiterTable(t *testing.T) {
	type ask struct {
		advance time.Duration
		client  string
		want    bool
	}
	tests := []struct {
		name      string
		max       int
		asks      []ask
		wantSize  int64
		wantOrder []string // newest first
	}{
		{
			name:      "bounded: the oldest is forgotten",
			max:       3,
			asks:      []ask{{client: "192.0.2.1", want: true}, {client: "192.0.2.2", want: true}, {client: "192.0.2.3", want: true}, {client: "192.0.2.4", want: true}},
			wantSize:  3,
			wantOrder: []string{"192.0.2.4", "192.0.2.3", "192.0.2.2"},
		},
		{
			name: "a client seen again moves to the front and is kept",
			max:  3,
			asks: []ask{
				{client: "192.0.2.1", want: true}, {client: "192.0.2.2", want: true}, {client: "192.0.2.3", want: true},
				{client: "192.0.2.1", want: false}, {client: "192.0.2.4", want: true},
			},
			wantSize:  3,
			wantOrder: []string{"192.0.2.4", "192.0.2.1", "192.0.2.3"},
		},
		{
			name: "a forgotten client comes back with a full bucket",
			max:  1,
			asks: []ask{
				{client: "192.0.2.1", want: true}, {client: "192.0.2.1", want: false},
				{client: "192.0.2.2", want: true}, {client: "192.0.2.1", want: true},
			},
			wantSize:  1,
			wantOrder: []string{"192.0.2.1"},
		},
		{
			name: "idle clients are pruned, two a query",
			max:  10,
			asks: []ask{
				{client: "192.0.2.1", want: true}, {client: "192.0.2.2", want: true}, {client: "192.0.2.3", want: true},
				{advance: time.Second, client: "192.0.2.4", want: true},
			},
			wantSize:  2,
			wantOrder: []string{"192.0.2.4", "192.0.2.3"},
		},
		{
			name: "a busy oldest client stops the pruning",
			max:  10,
			asks: []ask{
				{client: "192.0.2.1", want: true}, {client: "192.0.2.1", want: false}, {advance: 500 * time.Millisecond, client: "192.0.2.2", want: true},
				{advance: 400 * time.Millisecond, client: "192.0.2.3", want: true},
			},
			wantSize:  3,
			wantOrder: []string{"192.0.2.3", "192.0.2.2", "192.0.2.1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := dnstest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			var size atomic.Int64
			l := newRateLimiter(RateLimit{QPS: 1, Burst: 1}, tc.max, clock, &size)
			for i, a := range tc.asks {
				clock.Advance(a.advance)
				if got := l.allow(netip.MustParseAddr(a.client)); got != a.want {
					t.Errorf("ask %d (%s): allowed %v, want %v", i, a.client, got, a.want)
				}
			}
			if got := size.Load(); got != tc.wantSize || int(got) != len(l.clients) {
				t.Errorf("size %d (table %d), want %d", got, len(l.clients), tc.wantSize)
			}
			var order []string
			for b := l.newest; b != nil; b = b.older {
				order = append(order, b.key.String())
			}
			if len(order) != len(tc.wantOrder) {
				t.Fatalf("order %v, want %v", order, tc.wantOrder)
			}
			for i := range order {
				if order[i] != tc.wantOrder[i] {
					t.Fatalf("order %v, want %v", order, tc.wantOrder)
				}
			}
			checkLinks(t, l)
		})
	}
}

// checkLinks checks that the list by last use holds every bucket of the
// table once, linked both ways.
func checkLinks(t *testing.T, l *rateLimiter) {
	t.Helper()
	n := 0
	var newer *bucket
	for b := l.newest; b != nil; b = b.older {
		if b.newer != newer || l.clients[b.key] != b {
			t.Fatalf("bucket %s badly linked", b.key)
		}
		newer = b
		n++
	}
	if newer != l.oldest || n != len(l.clients) {
		t.Fatalf("list of %d ends at %v, table of %d ends at %v", n, newer, len(l.clients), l.oldest)
	}
}

// TestRateLimiterFlood sends queries from many forged sources: the table
// stays within its bound, and a client that keeps asking keeps its
// bucket (and so its limit).
func TestRateLimiterFlood(t *testing.T) {
	clock := dnstest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var size atomic.Int64
	const bound = 1000
	l := newRateLimiter(RateLimit{QPS: 10, Burst: 10}, bound, clock, &size)
	steady := netip.MustParseAddr("198.51.100.1")
	allowed := 0
	for i := range 100_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.allow(a)
		if i%100 == 0 && l.allow(steady) {
			allowed++
		}
		clock.Advance(10 * time.Microsecond) // a million packets a second
	}
	if got := size.Load(); got > bound {
		t.Errorf("table of %d clients, bound %d", got, bound)
	}
	// One second passed; the steady client had its burst of 10 and 10
	// more from the rate: 20, give or take the last refill.
	if allowed < 19 || allowed > 21 {
		t.Errorf("steady client allowed %d of 1000 queries over 1s at 10 qps with a burst of 10, want about 20", allowed)
	}
	checkLinks(t, l)
}

// TestSetPolicy: a new policy applies to the next query; an unchanged
// rate limit keeps its clients' spent buckets, a changed one starts anew.
func TestSetPolicy(t *testing.T) {
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: loopbackACL,
		RateLimit: RateLimit{QPS: 1, Burst: 1}, Clock: dnstest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	rcode := func() int {
		t.Helper()
		w := udpClient("127.0.0.1")
		h.ServeDNS(w, newQuery("www.example.com.", dns.TypeA, 0))
		if w.Reply() == nil {
			return -1
		}
		return w.Reply().Rcode
	}
	if got := rcode(); got != dns.RcodeSuccess {
		t.Fatalf("first query: %s", dns.RcodeToString[got])
	}
	if got := rcode(); got != dns.RcodeRefused {
		t.Fatalf("second query within the burst of 1: %s, want REFUSED", dns.RcodeToString[got])
	}
	same := Policy{ACL: loopbackACL, RateLimit: RateLimit{QPS: 1, Burst: 1}}
	if err := h.SetPolicy(same); err != nil {
		t.Fatal(err)
	}
	if got := rcode(); got != dns.RcodeRefused {
		t.Errorf("after setting the same rate limit: %s, want still REFUSED (the bucket kept)", dns.RcodeToString[got])
	}
	if err := h.SetPolicy(Policy{ACL: loopbackACL, RateLimit: RateLimit{QPS: 1, Burst: 5}}); err != nil {
		t.Fatal(err)
	}
	if got := rcode(); got != dns.RcodeSuccess {
		t.Errorf("after a new rate limit: %s, want a full bucket", dns.RcodeToString[got])
	}
	if err := h.SetPolicy(Policy{ACL: ACL{}, ACLAction: ActionDrop}); err != nil {
		t.Fatal(err)
	}
	if got := rcode(); got != -1 {
		t.Errorf("after an ACL that drops everyone: rcode %d, want no reply", got)
	}
	if err := h.SetPolicy(Policy{ACLAction: Action(9)}); err == nil {
		t.Error("a bad action accepted")
	}
}
