package resolver

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestUpstreamRateLimitPerServer(t *testing.T) {
	net := newFakeNet(testTree(t))
	r, err := New(Options{
		Hints: testHints, UpstreamPort: 53, Exchanger: net, Cache: newMapCache(),
		Clock: newTestResolver(t, net, nil).clock, MaxServerQPS: 1, // a query a second to each server
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	clock := r.clock.(interface{ Advance(time.Duration) })
	sentTo := func(addr string) int {
		n := 0
		for _, q := range net.queries() {
			if strings.HasPrefix(q, addr+" ") {
				n++
			}
		}
		return n
	}
	resolve := func(name string) error {
		_, err := r.Resolve(t.Context(), dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET})
		return err
	}
	// The first two names take one query from each of example.test's two
	// servers; the third finds both spent.
	if err := resolve("www.example.test."); err != nil {
		t.Fatal(err)
	}
	if err := resolve("ns1.example.test."); err != nil {
		t.Fatalf("second name, with one server left: %v", err)
	}
	err = resolve("nope.example.test.")
	if !errors.Is(err, ErrRateLimited) || !errors.Is(err, ErrNoReachableAuthority) {
		t.Errorf("third name: %v, want no reachable authority because of the rate limit", err)
	}
	if n3, n4 := sentTo("127.0.0.3"), sentTo("127.0.0.4"); n3 != 1 || n4 != 1 {
		t.Errorf("queries sent to example.test's servers: %d and %d, want one each", n3, n4)
	}
	// One held back for the second name (if it tried the spent server
	// first) or none, and two for the third.
	if s := r.Stats(); s.RateLimited < 2 || s.RateLimited > 3 {
		t.Errorf("stats: %d rate limited, want 2 or 3", s.RateLimited)
	}
	clock.Advance(2 * time.Second) // past the failure cache too
	if err := resolve("nope.example.test."); err != nil {
		t.Errorf("a second later: %v", err)
	}
}
