package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	return dnstest.RRs(t, s)[0]
}

func msg(t testing.TB, rcode int, answer []string, ns ...string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.Rcode = rcode
	for _, s := range answer {
		m.Answer = append(m.Answer, rr(t, s))
	}
	for _, s := range ns {
		m.Ns = append(m.Ns, rr(t, s))
	}
	return m
}

func question(name string, qtype uint16) dns.Question {
	return dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}
}

func newCache(t testing.TB, opts Options) *Cache {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const soa = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"

func TestAnswerTTLCountsDown(t *testing.T) {
	c := newCache(t, Options{})
	q := question("www.example.com.", dns.TypeA)
	c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 90 IN A 192.0.2.2"}), t0)

	tests := []struct {
		after    time.Duration
		wantTTLs []uint32 // nil: expired
	}{
		{0, []uint32{60, 60}}, // capped to the entry's TTL, the RRset's smallest
		{time.Second, []uint32{59, 59}},
		{59*time.Second + 999*time.Millisecond, []uint32{1, 1}},
		{60 * time.Second, nil},
	}
	for _, tc := range tests {
		t.Run(tc.after.String(), func(t *testing.T) {
			got, ok := c.Answer(q, t0.Add(tc.after))
			if tc.wantTTLs == nil {
				if ok {
					t.Fatalf("entry alive after %v: %v", tc.after, got)
				}
				return
			}
			if !ok {
				t.Fatalf("entry gone after %v", tc.after)
			}
			for i, r := range got.Answer {
				if r.Header().Ttl != tc.wantTTLs[i] {
					t.Errorf("record %d TTL %d, want %d", i, r.Header().Ttl, tc.wantTTLs[i])
				}
			}
		})
	}
}

func TestWhatIsNotCached(t *testing.T) {
	tests := []struct {
		name string
		m    func(t *testing.T) *dns.Msg
	}{
		{"SERVFAIL", func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeServerFailure, nil) }},
		{"REFUSED", func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeRefused, nil) }},
		{"NXDOMAIN without SOA", func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeNameError, nil) }},
		{"NODATA without SOA", func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeSuccess, nil) }},
		{"TTL 0", func(t *testing.T) *dns.Msg {
			return msg(t, dns.RcodeSuccess, []string{"www.example.com. 0 IN A 192.0.2.1"})
		}},
		{"truncated", func(t *testing.T) *dns.Msg {
			m := msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1"})
			m.Truncated = true
			return m
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, Options{})
			q := question("www.example.com.", dns.TypeA)
			c.StoreAnswer(q, tc.m(t), t0)
			if got, ok := c.Answer(q, t0); ok {
				t.Errorf("cached: %v", got)
			}
			if s := c.Stats(); s.Answers.Inserts != 0 || s.Answers.Entries != 0 {
				t.Errorf("stats %+v, want nothing inserted", s)
			}
		})
	}
}

func TestNegativeTTL(t *testing.T) {
	tests := []struct {
		name    string
		rcode   int
		answer  []string
		soa     string
		opts    Options
		wantTTL time.Duration
	}{
		{name: "NXDOMAIN uses SOA MINIMUM when smaller", rcode: dns.RcodeNameError, soa: soa, wantTTL: 300 * time.Second},
		{name: "NODATA uses SOA TTL when smaller", rcode: dns.RcodeSuccess,
			soa: "example.com. 120 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300", wantTTL: 120 * time.Second},
		{name: "CNAME before the NXDOMAIN bounds it", rcode: dns.RcodeNameError,
			answer: []string{"a.example.com. 30 IN CNAME b.example.com."}, soa: soa, wantTTL: 30 * time.Second},
		{name: "negative cap", rcode: dns.RcodeNameError, soa: soa, opts: Options{NegativeMaxTTL: time.Minute}, wantTTL: time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, tc.opts)
			q := question("a.example.com.", dns.TypeA)
			c.StoreAnswer(q, msg(t, tc.rcode, tc.answer, tc.soa), t0)
			if _, ok := c.Answer(q, t0.Add(tc.wantTTL-time.Second)); !ok {
				t.Errorf("gone before %v", tc.wantTTL)
			}
			got, ok := c.Answer(q, t0.Add(tc.wantTTL))
			if ok {
				t.Errorf("alive at %v: %v", tc.wantTTL, got)
			}
		})
	}
}

func TestMaxTTLCapsRecords(t *testing.T) {
	c := newCache(t, Options{MaxTTL: time.Hour})
	q := question("example.com.", dns.TypeNS)
	in := msg(t, dns.RcodeSuccess, []string{"example.com. 172800 IN NS ns1.example.com."})
	served := c.StoreAnswer(q, in, t0)
	if served.Answer[0].Header().Ttl != 3600 || in.Answer[0].Header().Ttl != 172800 {
		t.Errorf("StoreAnswer served TTL %d and left the input at %d; want 3600 served, input untouched",
			served.Answer[0].Header().Ttl, in.Answer[0].Header().Ttl)
	}
	got, ok := c.Answer(q, t0)
	if !ok || got.Answer[0].Header().Ttl != 3600 {
		t.Fatalf("got %v, %v; want TTL capped to 3600", got, ok)
	}
}

func TestKeysAndCopies(t *testing.T) {
	c := newCache(t, Options{})
	c.StoreAnswer(question("WWW.Example.COM.", dns.TypeA), msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1"}), t0)

	got, ok := c.Answer(question("www.example.com.", dns.TypeA), t0)
	if !ok {
		t.Fatal("lookup in another case missed")
	}
	got.Answer[0].Header().Ttl = 9999 // the caller's copy
	again, _ := c.Answer(question("www.example.com.", dns.TypeA), t0)
	if again.Answer[0].Header().Ttl != 60 {
		t.Error("changing a returned message changed the cache")
	}
	if _, ok := c.Answer(question("www.example.com.", dns.TypeAAAA), t0); ok {
		t.Error("A entry answered AAAA")
	}
	if _, ok := c.Answer(dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassCHAOS}, t0); ok {
		t.Error("IN entry answered CH")
	}
	if _, ok := c.Delegation("www.example.com.", t0); ok {
		t.Error("answer entry returned as a delegation")
	}
}

func TestDelegationIsNotAnAnswer(t *testing.T) {
	c := newCache(t, Options{})
	ref := &dns.Msg{
		Ns:    []dns.RR{rr(t, "example.com. 172800 IN NS ns1.example.com.")},
		Extra: []dns.RR{rr(t, "ns1.example.com. 172800 IN A 127.53.2.1")},
	}
	c.StoreDelegation("example.com.", ref, t0)
	if _, ok := c.Answer(question("example.com.", dns.TypeNS), t0); ok {
		t.Error("a referral answered an NS question")
	}
	if _, ok := c.Answer(question("ns1.example.com.", dns.TypeA), t0); ok {
		t.Error("glue answered an A question")
	}
	got, ok := c.Delegation("EXAMPLE.com.", t0.Add(time.Hour))
	if !ok || len(got.Ns) != 1 || len(got.Extra) != 1 || got.Extra[0].Header().Ttl != 86400-3600 {
		t.Errorf("delegation %v, %v; want NS and glue with TTL 82800 (capped at one day, an hour gone)", got, ok)
	}
}

func TestEntryBound(t *testing.T) {
	c := newCache(t, Options{MaxEntries: 10})
	for i := range 25 {
		name := fmt.Sprintf("n%d.example.com.", i)
		c.StoreAnswer(question(name, dns.TypeA), msg(t, dns.RcodeSuccess, []string{name + " 60 IN A 192.0.2.1"}), t0)
	}
	s := c.Stats()
	if s.Answers.Entries != 10 || s.Answers.Evictions != 15 || s.Answers.Inserts != 25 {
		t.Errorf("stats %+v, want 10 entries, 15 evictions, 25 inserts", s)
	}
	if _, ok := c.Answer(question("n24.example.com.", dns.TypeA), t0); !ok {
		t.Error("newest entry evicted")
	}
	if _, ok := c.Answer(question("n0.example.com.", dns.TypeA), t0); ok {
		t.Error("oldest entry kept")
	}
}

func TestByteBound(t *testing.T) {
	const limit = 64 << 10
	c := newCache(t, Options{MaxBytes: limit})
	for i := range 2000 {
		name := fmt.Sprintf("n%d.example.com.", i)
		c.StoreAnswer(question(name, dns.TypeA), msg(t, dns.RcodeSuccess, []string{name + " 60 IN A 192.0.2.1"}), t0)
	}
	s := c.Stats()
	if s.Bytes > limit || s.Bytes <= 0 {
		t.Errorf("%d bytes held, bound %d", s.Bytes, limit)
	}
	if s.Answers.Evictions == 0 || s.Answers.Entries >= 2000 {
		t.Errorf("stats %+v: the byte bound evicted nothing", s)
	}
}

func TestReplaceKeepsByteCount(t *testing.T) {
	c := newCache(t, Options{})
	q := question("www.example.com.", dns.TypeA)
	m := msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1"})
	c.StoreAnswer(q, m, t0)
	once := c.Stats().Bytes
	for range 10 {
		c.StoreAnswer(q, m, t0)
	}
	if s := c.Stats(); s.Bytes != once || s.Answers.Entries != 1 {
		t.Errorf("after replacing: %+v, want %d bytes in 1 entry", s, once)
	}
}

func TestHitMissExpiredCounters(t *testing.T) {
	c := newCache(t, Options{})
	q := question("www.example.com.", dns.TypeA)
	c.Answer(q, t0)
	c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{"www.example.com. 5 IN A 192.0.2.1"}), t0)
	c.Answer(q, t0)
	c.Answer(q, t0.Add(5*time.Second))
	s := c.Stats()
	if s.Answers.Hits != 1 || s.Answers.Misses != 2 || s.Answers.Expired != 1 || s.Answers.Entries != 0 {
		t.Errorf("stats %+v, want 1 hit, 2 misses, 1 expired, 0 entries", s)
	}
}

func TestCountersPerKind(t *testing.T) {
	c := newCache(t, Options{MaxEntries: 2})
	ref := &dns.Msg{Ns: []dns.RR{rr(t, "example.com. 60 IN NS ns1.example.com.")}}
	c.StoreDelegation("example.com.", ref, t0)
	c.Delegation("example.com.", t0)
	c.Delegation("com.", t0)
	c.StoreAnswer(question("a.example.com.", dns.TypeA), msg(t, dns.RcodeSuccess, []string{"a.example.com. 60 IN A 192.0.2.1"}), t0)
	c.StoreAnswer(question("b.example.com.", dns.TypeA), msg(t, dns.RcodeSuccess, []string{"b.example.com. 60 IN A 192.0.2.1"}), t0) // evicts the delegation
	s := c.Stats()
	d, a := s.Delegations, s.Answers
	if d.Inserts != 1 || d.Hits != 1 || d.Misses != 1 || d.Evictions != 1 || d.Entries != 0 {
		t.Errorf("delegations %+v, want 1 insert, 1 hit, 1 miss, 1 eviction, 0 entries", d)
	}
	if a.Inserts != 2 || a.Entries != 2 || a.Evictions != 0 {
		t.Errorf("answers %+v, want 2 inserts, 2 entries, no eviction", a)
	}
}

func TestNewRejectsNegativeBounds(t *testing.T) {
	if _, err := New(Options{MaxEntries: -1}); err == nil {
		t.Error("negative MaxEntries accepted")
	}
	if _, err := New(Options{MaxBytes: -1}); err == nil {
		t.Error("negative MaxBytes accepted")
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newCache(t, Options{MaxEntries: 50})
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				name := fmt.Sprintf("n%d.example.com.", (i*7+g)%100)
				q := question(name, dns.TypeA)
				c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{name + " 60 IN A 192.0.2.1"}), t0)
				c.Answer(q, t0.Add(time.Duration(i)*time.Millisecond))
			}
		}()
	}
	for range 4 {
		<-done
	}
	if s := c.Stats(); s.Answers.Entries > 50 {
		t.Errorf("%d entries, bound 50", s.Answers.Entries)
	}
}

func BenchmarkAnswerHit(b *testing.B) {
	c := newCache(b, Options{})
	q := question("www.example.com.", dns.TypeA)
	c.StoreAnswer(q, msg(b, dns.RcodeSuccess, []string{"www.example.com. 3600 IN A 192.0.2.1"}), t0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Answer(q, t0); !ok {
				b.Fatal("miss")
			}
		}
	})
}

func TestNameErrors(t *testing.T) {
	c := newCache(t, Options{})
	nx := msg(t, dns.RcodeNameError, nil, soa)
	c.StoreNameError("Nope.Example.com.", nx, t0)
	c.StoreNameError("cname.example.com.", msg(t, dns.RcodeNameError, []string{"cname.example.com. 60 IN CNAME x.example.net."}, soa), t0)
	c.StoreNameError("nosoa.example.com.", msg(t, dns.RcodeNameError, nil), t0)
	c.StoreNameError("noerror.example.com.", msg(t, dns.RcodeSuccess, nil, soa), t0)
	if got, ok := c.NameError("nope.example.com.", t0.Add(299*time.Second)); !ok || got.Rcode != dns.RcodeNameError || len(got.Ns) != 1 {
		t.Errorf("NameError within the negative TTL: %v, %v", got, ok)
	}
	if _, ok := c.NameError("nope.example.com.", t0.Add(300*time.Second)); ok {
		t.Error("NameError alive after the negative TTL (300 s)")
	}
	for _, name := range []string{"cname.example.com.", "nosoa.example.com.", "noerror.example.com."} {
		if _, ok := c.NameError(name, t0); ok {
			t.Errorf("%s stored as a name error", name)
		}
	}
	if _, ok := c.Answer(question("nope.example.com.", dns.TypeA), t0); ok {
		t.Error("a name error answered as an A answer")
	}
	if s := c.Stats(); s.NameErrors.Inserts != 1 || s.Answers.Inserts != 0 {
		t.Errorf("stats %+v", s)
	}
}
