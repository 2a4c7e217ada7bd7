package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/internal/selection"
)

// shaped wraps the fake network: per server address, a fixed RTT to
// report, or a rewrite of each reply.
type shaped struct {
	net     *fakeNet
	rtt     map[string]time.Duration
	rewrite map[string]func(query, reply *dns.Msg) *dns.Msg
	drop    map[string]func(query *dns.Msg) bool // true: the query times out

	mu       sync.Mutex
	timeouts []time.Duration // the timeout of every exchange, in order
	edns     []bool          // whether each query carried EDNS
	names    []string        // the question name of each query, as sent
}

func (s *shaped) Exchange(ctx context.Context, q *dns.Msg, to netip.AddrPort, timeout time.Duration) (Response, error) {
	s.mu.Lock()
	s.timeouts = append(s.timeouts, timeout)
	s.edns = append(s.edns, q.IsEdns0() != nil)
	s.names = append(s.names, q.Question[0].Name)
	s.mu.Unlock()
	if f, ok := s.drop[to.Addr().String()]; ok && f(q) {
		return Response{}, fmt.Errorf("%s: %w", to, ErrTimeout)
	}
	resp, err := s.net.Exchange(ctx, q, to, timeout)
	if err != nil {
		return resp, err
	}
	if d, ok := s.rtt[to.Addr().String()]; ok {
		resp.RTT = d
	}
	if f, ok := s.rewrite[to.Addr().String()]; ok {
		resp.Msg = f(q, resp.Msg)
	}
	return resp, nil
}

func countTo(queries []string, addr string) int {
	n := 0
	for _, q := range queries {
		if strings.HasPrefix(q, addr+" ") {
			n++
		}
	}
	return n
}

func TestFastServerIsPreferred(t *testing.T) {
	tree := testTree(t)
	for i := range 100 {
		tree["127.0.0.3"][fmt.Sprintf("n%d.example.test. A", i)] = answer(t, fmt.Sprintf("n%d.example.test. 60 IN A 192.0.2.1", i))
	}
	tree["127.0.0.4"] = tree["127.0.0.3"]
	s := &shaped{net: newFakeNet(tree), rtt: map[string]time.Duration{"127.0.0.3": 2 * time.Millisecond, "127.0.0.4": 150 * time.Millisecond}}
	r := newTestResolver(t, s, newMapCache())
	for i := range 100 {
		if _, err := r.Resolve(t.Context(), dns.Question{Name: fmt.Sprintf("n%d.example.test.", i), Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			t.Fatal(err)
		}
	}
	fast, slow := countTo(s.net.queries(), "127.0.0.3"), countTo(s.net.queries(), "127.0.0.4")
	if fast < 85 || slow < 1 {
		t.Errorf("fast server asked %d times, slow %d; want most to the fast one and the slow one probed now and then", fast, slow)
	}
	t.Logf("100 names: fast server asked %d times, slow %d", fast, slow)
}

func TestLameServerIsRemembered(t *testing.T) {
	tree := testTree(t)
	for i := range 20 {
		tree["127.0.0.4"][fmt.Sprintf("n%d.example.test. A", i)] = answer(t, fmt.Sprintf("n%d.example.test. 60 IN A 192.0.2.1", i))
	}
	tree["127.0.0.3"] = table{"example.test.": failure(dns.RcodeRefused)}
	fake := newFakeNet(tree)
	r := newTestResolver(t, fake, newMapCache())
	for i := range 20 {
		if _, err := r.Resolve(t.Context(), dns.Question{Name: fmt.Sprintf("n%d.example.test.", i), Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			t.Fatal(err)
		}
	}
	if n := countTo(fake.queries(), "127.0.0.3"); n > 1 {
		t.Errorf("the lame server was asked %d times in 20 resolutions, want at most once", n)
	}
}

func TestSilentServerIsSetAside(t *testing.T) {
	tree := testTree(t)
	for i := range 20 {
		tree["127.0.0.4"][fmt.Sprintf("n%d.example.test. A", i)] = answer(t, fmt.Sprintf("n%d.example.test. 60 IN A 192.0.2.1", i))
	}
	delete(tree, "127.0.0.3") // silent: every exchange times out
	s := &shaped{net: newFakeNet(tree)}
	r := newTestResolver(t, s, newMapCache())
	for i := range 20 {
		if _, err := r.Resolve(t.Context(), dns.Question{Name: fmt.Sprintf("n%d.example.test.", i), Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			t.Fatal(err)
		}
	}
	if n := countTo(s.net.queries(), "127.0.0.3"); n > selection.DownAfter {
		t.Errorf("the silent server was asked %d times in 20 resolutions, want it set aside after %d", n, selection.DownAfter)
	}
}

func TestTimeoutAdaptsToRTT(t *testing.T) {
	s := &shaped{net: newFakeNet(testTree(t)), rtt: map[string]time.Duration{"127.0.0.1": 20 * time.Millisecond}}
	r := newTestResolver(t, s, nil) // no cache: every resolution asks the root again
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	for range 2 {
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	first, second := s.timeouts[0], s.timeouts[3] // the root's, each time
	if first != selection.UnknownRTO {
		t.Errorf("first timeout for the root %v, want %v for a server never heard from", first, selection.UnknownRTO)
	}
	if want := 20*time.Millisecond + 4*10*time.Millisecond; second != want {
		t.Errorf("second timeout for the root %v, want SRTT + 4 RTTVAR = %v", second, want)
	}
}

func TestCaseRandomisation(t *testing.T) {
	lower := func(_, reply *dns.Msg) *dns.Msg {
		reply.Question[0].Name = strings.ToLower(reply.Question[0].Name)
		return reply
	}
	s := &shaped{net: newFakeNet(testTree(t)), rewrite: map[string]func(q, r *dns.Msg) *dns.Msg{"127.0.0.1": lower}}
	r := newTestResolver(t, s, nil)
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	for range 2 {
		if _, err := r.Resolve(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	mixed := 0
	for _, n := range s.names {
		if n != strings.ToLower(n) {
			mixed++
		}
	}
	// First walk: root in mixed case (not echoed), root again in plain
	// case, test. and example.test. in mixed case. Second walk: the root in
	// plain case straight away, the others mixed.
	if len(s.names) != 7 || mixed != 5 || s.names[1] != "www.example.test." || s.names[4] != "www.example.test." {
		t.Errorf("names sent %q; want 0x20 case everywhere but to the root once it was found not to echo it", s.names)
	}
}

func TestEDNSFormErrFallback(t *testing.T) {
	formerr := func(q, reply *dns.Msg) *dns.Msg {
		if q.IsEdns0() == nil {
			return reply
		}
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeFormatError)
		m.Extra = nil
		return m
	}
	s := &shaped{net: newFakeNet(testTree(t)), rewrite: map[string]func(q, r *dns.Msg) *dns.Msg{"127.0.0.2": formerr}}
	r := newTestResolver(t, s, nil)
	for range 2 {
		if _, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			t.Fatal(err)
		}
	}
	// root (EDNS), test. (EDNS: FORMERR), test. (plain), example.test.;
	// then root, test. (plain, remembered), example.test.
	want := []bool{true, true, false, true, true, false, true}
	if fmt.Sprint(s.edns) != fmt.Sprint(want) {
		t.Errorf("EDNS per query %v, want %v", s.edns, want)
	}
}

func TestEDNSDroppedFallback(t *testing.T) {
	dropEDNS := func(q *dns.Msg) bool { return q.IsEdns0() != nil }
	s := &shaped{net: newFakeNet(testTree(t)), drop: map[string]func(*dns.Msg) bool{"127.0.0.2": dropEDNS}}
	r := newTestResolver(t, s, nil)
	for range 2 {
		if _, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			t.Fatal(err)
		}
	}
	// root; test. with EDNS (silent), test. plain; example.test.; then
	// root; test. plain straight away (remembered); example.test.
	want := []bool{true, true, false, true, true, false, true}
	if fmt.Sprint(s.edns) != fmt.Sprint(want) {
		t.Errorf("EDNS per query %v, want %v", s.edns, want)
	}
}

func TestIPv6ServersUsedOnlyWhenOn(t *testing.T) {
	tree := testTree(t)
	// example.test.'s only server has an IPv6 address alone.
	tree["127.0.0.2"]["example.test."] = referralTo(t, []string{"example.test. 172800 IN NS ns6.example.test."}, "ns6.example.test. 172800 IN AAAA ::1")
	tree["::1"] = tree["127.0.0.3"]
	for _, ipv6 := range []bool{true, false} {
		fake := newFakeNet(tree)
		r := newTestResolver(t, fake, nil)
		r.ipv6 = ipv6
		_, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
		if ipv6 && (err != nil || countTo(fake.queries(), "::1") != 1) {
			t.Errorf("IPv6 on: %v, queries %q; want the answer from ::1", err, fake.queries())
		}
		if !ipv6 && (err == nil || countTo(fake.queries(), "::1") != 0) {
			t.Errorf("IPv6 off: %v, queries %q; want no query to ::1 and no answer", err, fake.queries())
		}
	}
}
