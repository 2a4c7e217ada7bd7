package cache

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/miekg/dns"
)

// TestSizeEstimate checks that the byte bound bounds real memory: the
// heap an entry holds stays within what estimateSize says of it, for the
// shapes of entries the resolver stores most (an A answer and its RRset;
// a negative answer with its SOA).
func TestSizeEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	shapes := []struct {
		name  string
		store func(c *Cache, i int)
	}{
		{"A answer", func(c *Cache, i int) {
			name := fmt.Sprintf("host-%d.wild.example.com.", i)
			storeA(t, c, name, 3600, t0)
		}},
		{"NXDOMAIN", func(c *Cache, i int) {
			name := fmt.Sprintf("nope-%d.example.com.", i)
			c.StoreAnswer(query(name, dns.TypeA), aa(msg(t, dns.RcodeNameError, nil, soa)), t0)
		}},
	}
	for _, p := range []Policy{LRU, TwoQueue} {
		for _, shape := range shapes {
			t.Run(string(p)+"/"+shape.name, func(t *testing.T) {
				const n = 20_000
				c := newCache(t, Options{MaxEntries: 1 << 30, MaxBytes: 1 << 40, Policy: p})
				before := heapInUse()
				for i := range n {
					shape.store(c, i)
				}
				after := heapInUse()
				runtime.KeepAlive(c)
				heap := after - before
				est := c.Stats().Bytes
				ratio := float64(heap) / float64(est)
				t.Logf("%d entries: heap %d bytes, estimated %d (%.0f and %.0f per entry): heap/estimate %.2f",
					c.Stats().Entries, heap, est, float64(heap)/float64(c.Stats().Entries), float64(est)/float64(c.Stats().Entries), ratio)
				if ratio > 1.1 || ratio < 0.6 {
					t.Errorf("heap/estimate %.2f, want within [0.6, 1.1]: adjust entryOverhead or rrOverhead", ratio)
				}
			})
		}
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
