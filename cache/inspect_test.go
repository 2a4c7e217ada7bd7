package cache

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func filled(t *testing.T) *Cache {
	t.Helper()
	c := newCache(t, Options{StaleMaxAge: time.Hour})
	storeA(t, c, "www.example.com.", 60, t0)
	storeA(t, c, "mail.example.com.", 3600, t0.Add(time.Second))
	storeA(t, c, "www.example.net.", 3600, t0.Add(2*time.Second))
	c.StoreNameError("nope.example.com.", aa(msg(t, dns.RcodeNameError, nil, soa)), t0)
	c.StoreDelegation("example.com.", referral(t), t0)
	return c
}

func TestEntries(t *testing.T) {
	now := t0.Add(90 * time.Second) // www.example.com's answer is stale
	tests := []struct {
		name string
		f    Filter
		want []string // kind name type, most recently used first
	}{
		{"one name", Filter{Name: "WWW.example.com"}, []string{"answer www.example.com. A"}},
		{"a subtree's answers", Filter{Name: "example.com.", Subtree: true, Kind: "answer"},
			[]string{"answer mail.example.com. A", "answer www.example.com. A"}},
		{"name errors", Filter{Kind: "nxdomain"}, []string{"nxdomain nope.example.com. "}},
		{"by type", Filter{Type: dns.TypeNS}, []string{"rrset example.com. NS"}},
		{"stale only", Filter{Stale: true}, []string{"answer www.example.com. A"}},
		{"limit, most recent first", Filter{Kind: "answer", Limit: 1}, []string{"answer www.example.net. A"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := filled(t)
			var got []string
			for _, e := range c.Entries(tc.f, now) {
				got = append(got, e.Kind+" "+e.Name+" "+e.Type)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestEntryDescription(t *testing.T) {
	c := filled(t)
	es := c.Entries(Filter{Name: "ns1.example.com."}, t0.Add(10*time.Second))
	if len(es) != 1 {
		t.Fatalf("entries %+v, want the glue", es)
	}
	e := es[0]
	if e.Kind != "rrset" || e.Trust != "additional" || e.TTL != 86390 || e.OrigTTL != 86400 || e.Stale ||
		len(e.Records) != 1 || e.Records[0] != "ns1.example.com.\t86390\tIN\tA\t127.53.2.1" || e.Size <= 0 {
		t.Errorf("entry %+v", e)
	}
}

func TestFlush(t *testing.T) {
	tests := []struct {
		name        string
		flush       func(c *Cache) int
		wantFlushed int
		gone, kept  []Query
	}{
		{"one name", func(c *Cache) int { return c.FlushName("www.example.com") }, 2, // answer and RRset
			[]Query{query("www.example.com.", dns.TypeA)}, []Query{query("mail.example.com.", dns.TypeA)}},
		{"a subtree", func(c *Cache) int { return c.FlushSubtree("example.com.") }, 7,
			[]Query{query("www.example.com.", dns.TypeA), query("mail.example.com.", dns.TypeA)},
			[]Query{query("www.example.net.", dns.TypeA)}},
		{"everything", func(c *Cache) int { return c.Flush() }, 9,
			[]Query{query("www.example.com.", dns.TypeA), query("www.example.net.", dns.TypeA)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := filled(t)
			if n := tc.flush(c); n != tc.wantFlushed {
				t.Errorf("flushed %d, want %d", n, tc.wantFlushed)
			}
			for _, q := range tc.gone {
				if _, ok := answer(c, q, t0); ok {
					t.Errorf("%s still cached", q.Name)
				}
			}
			for _, q := range tc.kept {
				if _, ok := answer(c, q, t0); !ok {
					t.Errorf("%s flushed", q.Name)
				}
			}
			if s := c.Stats(); s.Answers.Flushed+s.NameErrors.Flushed+s.RRsets.Flushed != uint64(tc.wantFlushed) {
				t.Errorf("stats %+v, want %d flushed", s, tc.wantFlushed)
			}
		})
	}
}
