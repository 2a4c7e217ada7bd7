package packet

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// putName stores a reply of about size bytes to an A query for name and
// returns its exact length.
func putName(t testing.TB, s *Store, name string, size int, now time.Time) int {
	t.Helper()
	query := newQuery(name, dns.TypeA, queryOpts{})
	reply := replyTo(query, dns.RcodeSuccess, rrs(t, name+" 300 IN A 192.0.2.1"), nil, nil)
	if pad := size - reply.Len(); pad > 12 {
		txt := &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}}
		for pad -= 12; pad > 0; pad -= 256 {
			txt.Txt = append(txt.Txt, strings.Repeat("x", min(pad, 256)-1))
		}
		reply.Extra = append(reply.Extra, txt)
	}
	packed := pack(t, reply)
	s.Put(parse(t, pack(t, query)), packed, now)
	return len(packed)
}

func TestNewStoreBounds(t *testing.T) {
	for _, opts := range []Options{{MaxEntries: -1}, {MaxBytes: -1}} {
		if _, err := NewStore(opts); !errors.Is(err, errNegativeBound) {
			t.Errorf("NewStore(%+v) error %v, want %v", opts, err, errNegativeBound)
		}
	}
	for _, tt := range []struct {
		opts       Options
		entries    int
		bytes      int64
		shardCount int
	}{
		{Options{}, DefaultMaxEntries, DefaultMaxBytes, maxShards},
		{Options{MaxEntries: 10}, 10, DefaultMaxBytes, 8},
		{Options{MaxEntries: 1}, 1, DefaultMaxBytes, 1},
		{Options{MaxBytes: 10_000}, DefaultMaxEntries, 10_000, 4},
		{Options{MaxEntries: 1000, MaxBytes: 1 << 20}, 1000, 1 << 20, maxShards},
	} {
		s := mustStore(t, tt.opts)
		var entries int
		var total int64
		for i := range s.shards {
			sh := &s.shards[i]
			if sh.maxEntries < 1 || sh.maxBytes < maxEntryCost && tt.opts.MaxBytes >= maxEntryCost {
				t.Errorf("%+v: shard %d holds at most %d entries and %d bytes", tt.opts, i, sh.maxEntries, sh.maxBytes)
			}
			entries += sh.maxEntries
			total += sh.maxBytes
		}
		if len(s.shards) != tt.shardCount || entries != tt.entries || total != tt.bytes {
			t.Errorf("%+v: %d shards, bounds %d entries %d bytes; want %d, %d, %d",
				tt.opts, len(s.shards), entries, total, tt.shardCount, tt.entries, tt.bytes)
		}
	}
}

func TestBoundsUnderManyPuts(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
		size int
	}{
		{"entries", Options{MaxEntries: 100}, 100},
		{"bytes", Options{MaxBytes: 256 << 10}, 1000},
		{"both", Options{MaxEntries: 300, MaxBytes: 200 << 10}, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStore(t, tt.opts)
			const puts = 5000
			for i := range puts {
				putName(t, s, fmt.Sprintf("n%d.example.", i), tt.size, t0)
				if n, b := s.size(); tt.opts.MaxEntries > 0 && n > tt.opts.MaxEntries || tt.opts.MaxBytes > 0 && b > tt.opts.MaxBytes {
					t.Fatalf("after %d puts: %d entries, %d bytes; bounds %+v", i+1, n, b, tt.opts)
				}
			}
			n, b := s.size()
			st := s.Stats()
			if st.Stored != puts || st.Evicted != uint64(puts-n) {
				t.Errorf("Stats %+v, want Stored %d and Evicted %d", st, puts, puts-n)
			}
			// Each shard is full: the bound is used, not just respected.
			if tt.opts.MaxEntries > 0 && tt.opts.MaxBytes == 0 && n != tt.opts.MaxEntries {
				t.Errorf("%d entries, want %d", n, tt.opts.MaxEntries)
			}
			if tt.opts.MaxBytes > 0 && b < tt.opts.MaxBytes*3/4 && n < tt.opts.MaxEntries*3/4 {
				t.Errorf("%d entries of %d bytes: the bounds %+v are far from used", n, b, tt.opts)
			}
			var sum int64
			for i := range s.shards {
				sh := &s.shards[i]
				for _, e := range sh.ring {
					sum += e.cost
				}
				if len(sh.ring) != len(sh.entries) {
					t.Errorf("shard %d: ring of %d, map of %d", i, len(sh.ring), len(sh.entries))
				}
			}
			if sum != b {
				t.Errorf("bytes counted %d, entries cost %d", b, sum)
			}
		})
	}
}

// Replacing an entry neither grows the store nor counts an eviction.
func TestPutReplaces(t *testing.T) {
	s := mustStore(t, Options{})
	for range 10 {
		putName(t, s, "www.example.com.", 100, t0)
	}
	size := putName(t, s, "www.example.com.", 600, t0)
	n, b := s.size()
	if st := s.Stats(); n != 1 || st.Stored != 11 || st.Evicted != 0 {
		t.Errorf("Len %d, Stats %+v; want 1 entry, 11 stored, 0 evicted", n, st)
	}
	if want := int64(size) + entryOverhead; b != want {
		t.Errorf("bytes %d, want %d (the last reply and the overhead)", b, want)
	}
}

// The clock hand spares an entry hit since it last passed, and takes
// expired entries first.
func TestClockEviction(t *testing.T) {
	mk := func(name string, lifetime time.Duration) *entry {
		return &entry{hash: uint64(len(name)), key: []byte(name), stored: t0, lifetime: lifetime, cost: 1}
	}
	sh := &shard{entries: make(map[uint64]*entry), maxEntries: 3, maxBytes: 1 << 20}
	a, b, c := mk("a", time.Hour), mk("bb", time.Hour), mk("ccc", time.Hour)
	for _, e := range []*entry{a, b, c} {
		sh.put(e, t0)
	}
	a.touch()
	d := mk("dddd", time.Hour)
	sh.put(d, t0)
	if _, ok := sh.entries[b.hash]; ok || sh.entries[a.hash] != a {
		t.Errorf("after a hit on a and a put: b kept %v, a kept %v; want b evicted, a kept", ok, sh.entries[a.hash] == a)
	}
	// c expired and hit: it goes before the others.
	c.lifetime = time.Second
	c.touch()
	d.touch()
	sh.put(mk("eeeee", time.Hour), t0.Add(time.Minute))
	if _, ok := sh.entries[c.hash]; ok {
		t.Errorf("expired c kept")
	}
	if len(sh.ring) != 3 || len(sh.entries) != 3 || sh.evicted.Load() != 2 {
		t.Errorf("ring %d, map %d, evicted %d; want 3, 3, 2", len(sh.ring), len(sh.entries), sh.evicted.Load())
	}
	for i, e := range sh.ring {
		if e.slot != i {
			t.Errorf("ring[%d].slot = %d", i, e.slot)
		}
	}
}

func TestFlushAndStats(t *testing.T) {
	s := mustStore(t, Options{})
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{})
	pkt := pack(t, query)
	q := parse(t, pkt)
	s.Put(q, pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 300 IN A 192.0.2.1"), nil, nil)), t0)
	out := make([]byte, maxUDPReply)
	for range 3 {
		if _, ok := s.Answer(q, pkt, t0, out); !ok {
			t.Fatal("miss before Flush")
		}
	}
	s.Flush()
	if n, b := s.size(); n != 0 || b != 0 || s.Len() != 0 {
		t.Errorf("after Flush: %d entries, %d bytes", n, b)
	}
	if _, ok := s.Answer(q, pkt, t0, out); ok {
		t.Error("hit after Flush")
	}
	want := Stats{Hits: 3, Misses: 1, Stored: 1}
	if got := s.Stats(); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
}

// Answer and Put from several goroutines: run with -race.
func TestConcurrentPutAnswer(t *testing.T) {
	s := mustStore(t, Options{MaxEntries: 40})
	const names, rounds = 60, 300
	type named struct {
		name  string
		pkt   []byte
		reply []byte
	}
	all := make([]named, names)
	for i := range all {
		name := fmt.Sprintf("host%d.example.", i)
		query := newQuery(name, dns.TypeA, queryOpts{id: uint16(i), edns: true, udpSize: 1232})
		all[i] = named{name, pack(t, query), pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, name+" 300 IN A 192.0.2.1"), nil, nil))}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			out := make([]byte, maxUDPReply)
			var q Query
			for r := range rounds {
				n := all[(g*7+r)%names]
				if !ParseQuery(n.pkt, &q) {
					errs <- fmt.Errorf("ParseQuery(%s) failed", n.name)
					return
				}
				now := t0.Add(time.Duration(r) * time.Millisecond)
				switch {
				case g%2 == 0:
					s.Put(&q, n.reply, now)
				case g == 1 && r%100 == 99:
					s.Flush()
				default:
					if err := checkConcurrentAnswer(s, &q, n.pkt, n.name, now, out); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.Len(); n > 40 {
		t.Errorf("Len %d past the bound 40", n)
	}
}

// checkConcurrentAnswer asks s for name and checks a hit is its reply.
func checkConcurrentAnswer(s *Store, q *Query, pkt []byte, name string, now time.Time, out []byte) error {
	size, ok := s.Answer(q, pkt, now, out)
	if !ok {
		return nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(out[:size]); err != nil {
		return fmt.Errorf("unpack answer for %s: %w", name, err)
	}
	if m.Id != q.ID || m.Question[0].Name != name || len(m.Answer) != 1 || m.Answer[0].Header().Name != name {
		return fmt.Errorf("answer for %s (ID %d): %v", name, q.ID, m)
	}
	return nil
}
