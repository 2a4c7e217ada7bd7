package selection

import (
	"net/netip"
	"testing"
	"time"
)

func TestUntriedIPv6NeverJumpsAheadOfIPv4(t *testing.T) {
	in := New()
	now := time.Now()
	for seed := range 200 {
		cands := []Candidate{
			{Server: "a", To: netip.MustParseAddrPort("[::1]:53")},
			{Server: "a", To: netip.MustParseAddrPort("127.0.0.1:53")},
			{Server: "b", To: netip.MustParseAddrPort("127.0.0.2:53")},
		}
		n := seed
		in.Order(cands, "example.", now, func(k int) int { n = (n*7 + 3) % 1000; return n % k })
		if cands[0].To.Addr().Is6() {
			t.Fatalf("seed %d: an untried IPv6 address first: %v", seed, cands)
		}
	}
}

func TestTimeoutBackoffAndLameness(t *testing.T) {
	in := New()
	now := time.Now()
	a := netip.MustParseAddr("127.0.0.1")
	if got := in.Timeout(a, now); got != UnknownRTO {
		t.Errorf("unknown server: %v, want %v", got, UnknownRTO)
	}
	in.Reply(a, 10*time.Millisecond, now)
	if got := in.Timeout(a, now); got != MinRTO {
		t.Errorf("after a 10ms reply: %v, want the floor %v", got, MinRTO)
	}
	for range DownAfter {
		in.TimedOut(a, in.Timeout(a, now), now)
	}
	cands := []Candidate{{Server: "a", To: netip.AddrPortFrom(a, 53)}, {Server: "b", To: netip.MustParseAddrPort("127.0.0.2:53")}}
	in.Order(cands, "example.", now, func(int) int { return 1 })
	if cands[0].Server != "b" || cands[1].Avoid != "down" {
		t.Errorf("after %d timeouts: %+v; want the server set aside, last", DownAfter, cands)
	}
	in.MarkLame(netip.MustParseAddr("127.0.0.2"), "example.", now)
	in.Order(cands, "example.", now, func(int) int { return 1 })
	if cands[0].Avoid == "" || cands[1].Avoid == "" {
		t.Errorf("lame and down: %+v; want both avoided", cands)
	}
	in.Order(cands, "other.", now, func(int) int { return 1 })
	if cands[0].Server != "b" || cands[0].Avoid != "" {
		t.Errorf("b is lame for example. only: %+v", cands)
	}
}

func TestKnownFastServerBeforeUnknown(t *testing.T) {
	in := New()
	now := time.Now()
	fast := netip.MustParseAddrPort("127.0.0.1:53")
	in.Reply(fast.Addr(), time.Millisecond, now)
	cands := []Candidate{{Server: "unknown", To: netip.MustParseAddrPort("127.0.0.9:53")}, {Server: "fast", To: fast}}
	in.Order(cands, "example.", now, func(k int) int { return k - 1 }) // never explores
	if cands[0].Server != "fast" {
		t.Errorf("%v; want the server known to be fast first", cands)
	}
	slow := netip.MustParseAddrPort("127.0.0.2:53")
	in.Reply(slow.Addr(), 300*time.Millisecond, now)
	cands = []Candidate{{Server: "slow", To: slow}, {Server: "unknown", To: netip.MustParseAddrPort("127.0.0.9:53")}}
	in.Order(cands, "example.", now, func(k int) int { return k - 1 })
	if cands[0].Server != "unknown" {
		t.Errorf("%v; want a server never heard from before one known to be slow", cands)
	}
}
