package redis

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rootwalk/rootwalk/internal/redistest"
)

// newTier returns a Tier on srv, closed when the test ends.
func newTier(t *testing.T, opts Options) *Tier {
	t.Helper()
	tier, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tier.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return tier
}

// waitWrites waits until the tier has written n answers.
func waitWrites(t *testing.T, tier *Tier, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for tier.Stats().Writes < n {
		if time.Now().After(deadline) {
			t.Fatalf("writes = %d after 10 s, want %d (%+v)", tier.Stats().Writes, n, tier.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStoreThenAnswer(t *testing.T) {
	srv := redistest.Start(t)
	a := newTier(t, Options{Addr: srv.String(), Seed: "s"})
	b := newTier(t, Options{Addr: srv.String(), Seed: "s"})
	now := time.Now()
	q := query("www.example.com.", dns.TypeA, true, false)
	a.Store(q, answerMsg(t, dns.RcodeSuccess, "www.example.com. 300 IN A 192.0.2.1"), now)
	waitWrites(t, a, 1)

	m, stored, ok := b.Answer(t.Context(), query("WWW.example.com.", dns.TypeA, true, false), now.Add(time.Second))
	if !ok {
		t.Fatalf("another tier on the same Redis missed: %+v", b.Stats())
	}
	if !stored.Equal(time.Unix(0, now.UnixNano())) || len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 300 {
		t.Errorf("got %v stored at %v, want the answer with TTL 300 stored at %v", m.Answer, stored, now)
	}
	for _, other := range []Query{query("www.example.com.", dns.TypeA, false, false), query("www.example.com.", dns.TypeA, true, true)} {
		if _, _, ok := b.Answer(t.Context(), other, now); ok {
			t.Errorf("DO=%v CD=%v was answered by the DO answer", other.DO, other.CD)
		}
	}
	if _, _, ok := newTier(t, Options{Addr: srv.String(), Seed: "other"}).Answer(t.Context(), q, now); ok {
		t.Error("a tier with another seed found the answer")
	}
	if s := b.Stats(); s.Hits != 1 || s.Misses != 2 {
		t.Errorf("stats = %+v, want 1 hit and 2 misses", s)
	}

	// Past its TTL, an answer is a miss, or a stale hit within the stale window.
	if _, _, ok := b.Answer(t.Context(), q, now.Add(301*time.Second)); ok {
		t.Error("an expired answer was found with no stale window")
	}
	stale := newTier(t, Options{Addr: srv.String(), Seed: "s", StaleWindow: time.Hour})
	if _, _, ok := stale.Answer(t.Context(), q, now.Add(301*time.Second)); !ok || stale.Stats().Stale != 1 {
		t.Errorf("an expired answer within the stale window was not found: %+v", stale.Stats())
	}

	// Redis itself drops the answer at its TTL plus the stale window.
	rc := goredis.NewClient(&goredis.Options{Addr: srv.String()})
	defer func() { _ = rc.Close() }() // test client
	ttl, err := rc.TTL(t.Context(), a.keys.answer(q)).Result()
	if err != nil || ttl <= 290*time.Second || ttl > 300*time.Second {
		t.Errorf("Redis TTL = %v, %v; want about 300 s", ttl, err)
	}
}

func TestStoreSkipsWhatMustNotBeShared(t *testing.T) {
	srv := redistest.Start(t)
	tier := newTier(t, Options{Addr: srv.String(), Seed: "s"})
	now := time.Now()
	truncated := answerMsg(t, dns.RcodeSuccess, "t.example. 300 IN A 192.0.2.1")
	truncated.Truncated = true
	cases := map[string]*dns.Msg{
		"SERVFAIL":  answerMsg(t, dns.RcodeServerFailure),
		"REFUSED":   answerMsg(t, dns.RcodeRefused),
		"TTL 0":     answerMsg(t, dns.RcodeSuccess, "z.example. 300 IN CNAME y.example.", "y.example. 0 IN A 192.0.2.1"),
		"truncated": truncated,
		"no record": answerMsg(t, dns.RcodeSuccess),
	}
	for name, m := range cases {
		tier.Store(query(name+".example.", dns.TypeA, false, false), m, now)
	}
	if s := tier.Stats(); s.Skipped != uint64(len(cases)) {
		t.Errorf("skipped = %d, want %d", s.Skipped, len(cases))
	}
	// A NXDOMAIN with its SOA is shared.
	nx := answerMsg(t, dns.RcodeNameError)
	nx.Ns = answerMsg(t, 0, "example. 60 IN SOA ns.example. admin.example. 1 2 3 4 60").Answer
	tier.Store(query("nope.example.", dns.TypeA, false, false), nx, now)
	waitWrites(t, tier, 1)
	if m, _, ok := tier.Answer(t.Context(), query("nope.example.", dns.TypeA, false, false), now); !ok || m.Rcode != dns.RcodeNameError {
		t.Errorf("NXDOMAIN not shared: %v, %v", m, ok)
	}
}

// TestPlantedValueRefused: a value stored under a question's key that
// holds another question is refused, as a hash collision or a value
// written by someone else would be.
func TestPlantedValueRefused(t *testing.T) {
	srv := redistest.Start(t)
	tier := newTier(t, Options{Addr: srv.String(), Seed: "s"})
	now := time.Now()
	evil := answerMsg(t, dns.RcodeSuccess, "evil.example. 300 IN A 192.0.2.66")
	packed, err := evil.Pack()
	if err != nil {
		t.Fatal(err)
	}
	asked := query("bank.example.", dns.TypeA, false, false)
	value := encode(entry{q: query("evil.example.", dns.TypeA, false, false), stored: now, expires: now.Add(time.Hour), packed: packed})
	rc := goredis.NewClient(&goredis.Options{Addr: srv.String()})
	defer func() { _ = rc.Close() }() // test client
	if err := rc.Set(t.Context(), tier.keys.answer(asked), value, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if m, _, ok := tier.Answer(t.Context(), asked, now); ok {
		t.Fatalf("the planted answer was served: %v", m)
	}
	if s := tier.Stats(); s.Refused != 1 {
		t.Errorf("refused = %d, want 1", s.Refused)
	}
}

// TestDeadRedisDegrades: with nothing listening, each call fails within
// its deadline, and after breakerTrips failures the breaker opens and
// calls are not even made.
func TestDeadRedisDegrades(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	tier := newTier(t, Options{Addr: addr, Seed: "s", Timeout: 20 * time.Millisecond})
	q := query("www.example.com.", dns.TypeA, false, false)
	for range breakerTrips + 3 {
		start := time.Now()
		if _, _, ok := tier.Answer(t.Context(), q, start); ok {
			t.Fatal("a dead Redis answered")
		}
		// Generous: the deadline is 20 ms; a call must not hang for seconds.
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("a call to a dead Redis took %v", took)
		}
	}
	s := tier.Stats()
	if s.Errors != breakerTrips || s.Rejected != 3 || s.Breaker != BreakerOpen {
		t.Errorf("stats = %+v, want %d errors, then 3 rejected with the breaker open", s, breakerTrips)
	}
	if err := tier.Ping(t.Context()); err == nil {
		t.Error("Ping of a dead Redis succeeded")
	}
}

// TestBlackHoleRedisHonoursDeadline: a Redis that accepts connections but
// never answers costs each call its deadline, no more.
func TestBlackHoleRedisHonoursDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	var held []net.Conn
	var mu sync.Mutex
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close() // stops the accept loop
		conns.Wait()
		mu.Lock()
		for _, c := range held {
			_ = c.Close()
		}
		mu.Unlock()
	})
	tier := newTier(t, Options{Addr: ln.Addr().String(), Seed: "s", Timeout: 30 * time.Millisecond})
	start := time.Now()
	if _, _, ok := tier.Answer(context.Background(), query("a.example.", dns.TypeA, false, false), start); ok {
		t.Fatal("a silent Redis answered")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a call to a silent Redis took %v, want about its 30 ms deadline", took)
	}
}

func TestFlushReachesTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	type flush struct {
		name    string
		subtree bool
	}
	var mu sync.Mutex
	var gotA, gotB []flush
	record := func(into *[]flush) func(string, bool) {
		return func(name string, subtree bool) {
			mu.Lock()
			defer mu.Unlock()
			*into = append(*into, flush{name, subtree})
		}
	}
	a := newTier(t, Options{Addr: srv.String(), Seed: "s", OnFlush: record(&gotA)})
	b := newTier(t, Options{Addr: srv.String(), Seed: "s", OnFlush: record(&gotB)})
	// The subscriptions are made in the background; wait until Redis counts both.
	rc := goredis.NewClient(&goredis.Options{Addr: srv.String()})
	defer func() { _ = rc.Close() }() // test client
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := rc.PubSubNumSub(t.Context(), a.keys.channel()).Result()
		if err == nil && n[a.keys.channel()] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscribers = %v, %v; want 2", n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	now := time.Now()
	names := []string{"www.example.com.", "mail.example.com.", "deep.www.example.com.", "example.org."}
	for _, n := range names {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			a.Store(query(n, qt, false, false), answerMsg(t, dns.RcodeSuccess, n+" 300 IN TXT \"x\""), now)
		}
	}
	waitWrites(t, a, uint64(2*len(names)))
	has := func(name string) bool {
		_, _, ok := b.Answer(t.Context(), query(name, dns.TypeAAAA, false, false), now)
		return ok
	}

	if n, err := a.Flush(t.Context(), "WWW.example.com", false); err != nil || n != 2 {
		t.Errorf("flush of one name deleted %d, %v; want its 2 answers", n, err)
	}
	if has("www.example.com.") || !has("deep.www.example.com.") || !has("mail.example.com.") {
		t.Error("the flush of one name did not delete exactly that name")
	}
	if n, err := b.Flush(t.Context(), "example.com.", true); err != nil || n != 6 {
		t.Errorf("flush of a subtree deleted %d, %v; want 4 answers and 2 indexes", n, err)
	}
	if has("deep.www.example.com.") || has("mail.example.com.") || !has("example.org.") {
		t.Error("the subtree flush did not delete exactly the subtree")
	}
	if _, err := a.Flush(t.Context(), "", false); err != nil {
		t.Errorf("flush of everything: %v", err)
	}
	if has("example.org.") {
		t.Error("the flush of everything left an answer")
	}
	if keys, _ := rc.Keys(t.Context(), a.keys.all()).Result(); len(keys) != 0 {
		t.Errorf("keys left after flushing everything: %v", keys)
	}

	deadline = time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		a2, b2 := slices.Clone(gotA), slices.Clone(gotB)
		mu.Unlock()
		if len(a2) == 1 && len(b2) == 2 {
			if a2[0] != (flush{"example.com.", true}) || b2[0] != (flush{"www.example.com.", false}) || b2[1] != (flush{"", false}) {
				t.Errorf("received: a %v, b %v; want each other's flushes only", a2, b2)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("received after 10 s: a %v, b %v; want 1 and 2 flushes", a2, b2)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
