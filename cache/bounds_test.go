package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestEntryBound(t *testing.T) {
	for _, p := range []Policy{LRU, TwoQueue} {
		t.Run(string(p), func(t *testing.T) {
			c := newCache(t, Options{MaxEntries: 20, Policy: p}) // 10 answers, 10 RRsets, one shard each
			for i := range 25 {
				storeA(t, c, fmt.Sprintf("n%d.example.com.", i), 60, t0)
			}
			s := c.Stats()
			if s.Answers.Entries != 10 || s.Answers.Evictions != 15 || s.Answers.Inserts != 25 || s.Entries != 20 {
				t.Errorf("stats %+v, want 10 answers held, 15 evicted, 25 inserted, 20 entries in all", s)
			}
			if _, ok := answer(c, query("n24.example.com.", dns.TypeA), t0); !ok {
				t.Error("newest entry evicted")
			}
			if _, ok := answer(c, query("n0.example.com.", dns.TypeA), t0); ok {
				t.Error("oldest entry kept")
			}
		})
	}
}

func TestByteBound(t *testing.T) {
	const limit = 64 << 10
	for _, p := range []Policy{LRU, TwoQueue} {
		t.Run(string(p), func(t *testing.T) {
			c := newCache(t, Options{MaxBytes: limit, Policy: p})
			for i := range 2000 {
				storeA(t, c, fmt.Sprintf("n%d.example.com.", i), 60, t0)
			}
			s := c.Stats()
			if s.Bytes > limit || s.Bytes <= limit/2 {
				t.Errorf("%d bytes held, bound %d: want most of it used, none beyond", s.Bytes, limit)
			}
			if s.Answers.Evictions == 0 || s.Answers.Entries >= 2000 {
				t.Errorf("stats %+v: the byte bound evicted nothing", s)
			}
		})
	}
}

func TestReplaceKeepsByteCount(t *testing.T) {
	c := newCache(t, Options{})
	storeA(t, c, "www.example.com.", 60, t0)
	once := c.Stats().Bytes
	for range 10 {
		storeA(t, c, "www.example.com.", 60, t0)
	}
	if s := c.Stats(); s.Bytes != once || s.Entries != 2 {
		t.Errorf("after replacing: %+v, want %d bytes in 2 entries (answer and RRset)", s, once)
	}
}

func TestExpiredGoFirstUnderPressure(t *testing.T) {
	// One shard, room for 10 answers; entries expire after 10 s and are
	// kept an hour to serve stale.
	c := newCache(t, Options{MaxEntries: 20, StaleMaxAge: time.Hour})
	for i := range 5 {
		storeA(t, c, fmt.Sprintf("old%d.example.com.", i), 10, t0)
	}
	// old0 is served stale after it expired: someone still needs it.
	if _, ok := c.StaleAnswer(query("old0.example.com.", dns.TypeA), t0.Add(20*time.Second)); !ok {
		t.Fatal("no stale answer")
	}
	later := t0.Add(time.Minute)
	for i := range 10 {
		storeA(t, c, fmt.Sprintf("live%d.example.com.", i), 3600, later)
	}
	for i := range 10 {
		if _, ok := answer(c, query(fmt.Sprintf("live%d.example.com.", i), dns.TypeA), later); !ok {
			t.Errorf("live%d evicted while expired entries were held", i)
		}
	}
	s := c.Stats().Answers
	if s.Expired != 4 || s.Evictions != 1 {
		t.Errorf("answers %+v, want the 4 unused expired entries dropped, then old0 evicted", s)
	}
}

func TestTwoQueueResistsScans(t *testing.T) {
	results := map[Policy]int{}
	for _, p := range []Policy{LRU, TwoQueue} {
		c := newCache(t, Options{MaxEntries: 200, Policy: p}) // 100 answers, one shard
		popular := func(i int) Query { return query(fmt.Sprintf("pop%d.example.com.", i), dns.TypeA) }
		for i := range 20 {
			storeA(t, c, popular(i).Name, 3600, t0)
			answer(c, popular(i), t0) // asked again: frequent
		}
		for i := range 1000 {
			storeA(t, c, fmt.Sprintf("scan%d.example.com.", i), 3600, t0)
		}
		for i := range 20 {
			if _, ok := c.msgs.get(answerKey(popular(i)), t0); ok == fresh {
				results[p]++
			}
		}
	}
	if results[TwoQueue] != 20 || results[LRU] != 0 {
		t.Errorf("popular entries left after a scan: %v, want all 20 with 2q, none with lru", results)
	}
}

func TestShardsShareTheBounds(t *testing.T) {
	c := newCache(t, Options{MaxEntries: 10_000, MaxBytes: 1 << 30})
	if n := len(c.msgs.shards); n != maxShards {
		t.Fatalf("%d shards, want %d", n, maxShards)
	}
	for i := range 20_000 {
		storeA(t, c, fmt.Sprintf("n%d.example.com.", i), 60, t0)
	}
	if s := c.Stats(); s.Entries > 10_000 || s.Entries < 9_000 {
		t.Errorf("%d entries held, want close to the bound, 10000, and never above", s.Entries)
	}
}
