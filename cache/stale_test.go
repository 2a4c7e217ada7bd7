package cache

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestStaleWindow(t *testing.T) {
	tests := []struct {
		name      string
		staleFor  time.Duration
		after     time.Duration
		wantFresh bool
		wantStale bool
	}{
		{"fresh", time.Hour, 59 * time.Second, true, false},
		{"just expired", time.Hour, 60 * time.Second, false, true},
		{"within the window", time.Hour, 60*time.Second + 59*time.Minute, false, true},
		{"past the window", time.Hour, 60*time.Second + time.Hour, false, false},
		{"no window", 0, 61 * time.Second, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, Options{StaleMaxAge: tc.staleFor})
			q := query("www.example.com.", dns.TypeA)
			c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1"}), t0)
			now := t0.Add(tc.after)
			if _, ok := answer(c, q, now); ok != tc.wantFresh {
				t.Errorf("fresh answer: %v, want %v", ok, tc.wantFresh)
			}
			got, ok := c.StaleAnswer(q, now)
			if ok != tc.wantStale {
				t.Fatalf("stale answer: %v, want %v", ok, tc.wantStale)
			}
			if ok && got.Answer[0].Header().Ttl != StaleTTL {
				t.Errorf("stale TTL %d, want %d", got.Answer[0].Header().Ttl, StaleTTL)
			}
		})
	}
}

func TestStaleNegativeAnswers(t *testing.T) {
	c := newCache(t, Options{StaleMaxAge: time.Hour})
	q := query("nope.example.com.", dns.TypeA)
	c.StoreAnswer(q, msg(t, dns.RcodeNameError, nil, soa), t0)
	got, ok := c.StaleAnswer(q, t0.Add(10*time.Minute))
	if !ok || got.Rcode != dns.RcodeNameError || got.Ns[0].Header().Ttl != StaleTTL {
		t.Errorf("stale NXDOMAIN %v, %v; want it with its SOA at TTL %d", got, ok, StaleTTL)
	}
	if s := c.Stats().Answers; s.Stale != 1 {
		t.Errorf("answers %+v, want 1 stale", s)
	}
}

func TestPrefetchTriggers(t *testing.T) {
	c := newCache(t, Options{})
	q := query("www.example.com.", dns.TypeA)
	c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{"www.example.com. 100 IN A 192.0.2.1"}), t0)

	steps := []struct {
		after       time.Duration
		wantRefresh bool
	}{
		{0, false},
		{89 * time.Second, false},                      // 11 s left
		{90 * time.Second, true},                       // 10 s left: the last tenth
		{91 * time.Second, false},                      // one refresh at a time
		{99*time.Second + 500*time.Millisecond, false}, // still the same entry
	}
	for _, s := range steps {
		_, refresh, ok := c.Answer(q, t0.Add(s.after))
		if !ok || refresh != s.wantRefresh {
			t.Errorf("after %v: refresh %v (hit %v), want %v", s.after, refresh, ok, s.wantRefresh)
		}
	}
	// The refresh stores a new entry, which may be refreshed in its turn.
	c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{"www.example.com. 100 IN A 192.0.2.1"}), t0.Add(95*time.Second))
	if _, refresh, _ := c.Answer(q, t0.Add(96*time.Second)); refresh {
		t.Error("fresh replacement asked to be refreshed")
	}
	if _, refresh, _ := c.Answer(q, t0.Add(185*time.Second)); !refresh {
		t.Error("replacement in its last tenth not refreshed")
	}
	if s := c.Stats().Answers; s.Prefetches != 2 {
		t.Errorf("answers %+v, want 2 prefetches", s)
	}
}

func TestSweepDropsWhatOutlivedTheStaleWindow(t *testing.T) {
	c := newCache(t, Options{MaxEntries: 100, StaleMaxAge: time.Minute}) // one shard
	for _, name := range []string{"a.example.com.", "b.example.com.", "c.example.com."} {
		c.StoreAnswer(query(name, dns.TypeA), msg(t, dns.RcodeSuccess, []string{name + " 10 IN A 192.0.2.1"}), t0)
	}
	// A store one sweep interval later sweeps: the three are past their window.
	storeA(t, c, "d.example.com.", 10, t0.Add(sweepEvery))
	s := c.Stats()
	if s.Answers.Entries != 1 || s.Answers.Expired != 3 {
		t.Errorf("answers %+v, want 1 entry and 3 expired", s.Answers)
	}
}
