package resolver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// mapShared is a SharedCache in a map, as several resolvers would share
// one in Redis.
type mapShared struct {
	mu      sync.Mutex
	entries map[string]sharedEntry
	asked   int
}

type sharedEntry struct {
	msg    *dns.Msg
	stored time.Time
}

func (s *mapShared) Answer(_ context.Context, q Query, _ time.Time) (*dns.Msg, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	e, ok := s.entries[answerKey(q)]
	if !ok {
		return nil, time.Time{}, false
	}
	return e.msg.Copy(), e.stored, true
}

func (s *mapShared) Store(q Query, m *dns.Msg, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[answerKey(q)] = sharedEntry{msg: m.Copy(), stored: now}
}

func (s *mapShared) has(q Query) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.entries[answerKey(q)]
	return ok
}

func TestSharedCacheAnswersAnotherResolver(t *testing.T) {
	shared := &mapShared{entries: make(map[string]sharedEntry)}
	withShared := func(o *Options) { o.Shared = shared }
	netA, netB := newFakeNet(testTree(t)), newFakeNet(testTree(t))
	a := newResolverWith(t, netA, newMapCache(), withShared)
	b := newResolverWith(t, netB, newMapCache(), withShared)

	// A CNAME chain across zones, as the client's question.
	q := Query{Question: dns.Question{Name: "alias.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, DO: true}
	ra, err := a.ResolveQuery(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if !shared.has(q) {
		t.Fatal("the walked answer was not shared")
	}
	if shared.has(Query{Question: dns.Question{Name: "www.glueless.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}}) {
		t.Error("a sub-resolution's answer was shared as a client's")
	}
	var events []Event
	traced := WithTracer(t.Context(), TracerFunc(func(e Event) { events = append(events, e) }))
	rb, err := b.ResolveQuery(traced, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Kind != EventCacheHit || events[0].Target != SharedCacheTarget {
		t.Errorf("trace of an answer from the shared cache: %+v, want one cache hit from %q", events, SharedCacheTarget)
	}
	if rb.Upstream != 0 || len(netB.queries()) != 0 {
		t.Errorf("the second resolver asked upstream: %v", netB.queries())
	}
	if got, want := rrStrings(rb.Reply.Answer), rrStrings(ra.Reply.Answer); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("answer = %v, want the chain %v", got, want)
	}

	// Now in b's own cache: the shared cache is not asked again.
	before := shared.asked
	if _, err := b.ResolveQuery(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	if shared.asked != before {
		t.Errorf("the shared cache was asked %d more times for an answer in the resolver's own cache", shared.asked-before)
	}
	// Another DO/CD is another question.
	plain := q
	plain.DO = false
	if res, err := b.ResolveQuery(t.Context(), plain); err != nil || res.Upstream == 0 {
		t.Errorf("the DO answer stood for a query without DO: %v, %v", res, err)
	}
}

// TestSharedAnswerKeepsItsAge: an answer found in the shared cache counts
// its TTL down from when it was stored, and one past it is a miss.
func TestSharedAnswerKeepsItsAge(t *testing.T) {
	shared := &mapShared{entries: make(map[string]sharedEntry)}
	net := newFakeNet(testTree(t))
	own := newMapCache()
	r := newResolverWith(t, net, own, func(o *Options) { o.Shared = shared })
	now := r.clock.Now()
	q := Query{Question: dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}}
	shared.Store(q, answer(t, "www.example.test. 300 IN A 192.0.2.55"), now.Add(-100*time.Second))
	res, err := r.ResolveQuery(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if res.Upstream != 0 || res.Reply.Answer[0].(*dns.A).A.String() != "192.0.2.55" {
		t.Errorf("got %v after %d queries, want the shared answer", res.Reply.Answer, res.Upstream)
	}
	// The resolver's own cache counts the TTL down from then (the real
	// cache's arithmetic is its own tests' business).
	if e := own.entries[answerKey(q)]; !e.stored.Equal(now.Add(-100 * time.Second)) {
		t.Errorf("kept in the resolver's cache as stored at %v, want %v", e.stored, now.Add(-100*time.Second))
	}

	q.Name = "www.deep.example.test."
	shared.Store(q, answer(t, "www.deep.example.test. 60 IN A 192.0.2.56"), now.Add(-100*time.Second))
	res, err = r.ResolveQuery(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if res.Upstream == 0 || res.Reply.Answer[0].(*dns.A).A.String() != "192.0.2.9" {
		t.Errorf("an expired shared answer was served: %v", res.Reply.Answer)
	}
	if e := shared.entries[answerKey(q)]; !e.stored.Equal(now) {
		t.Errorf("the fresh answer was not shared in place of the expired one (stored %v)", e.stored)
	}
}

func rrStrings(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	return out
}
