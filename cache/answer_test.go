package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

func TestAnswerTTLCountsDown(t *testing.T) {
	c := newCache(t, Options{})
	q := query("www.example.com.", dns.TypeA)
	c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 90 IN A 192.0.2.2"}), t0)

	tests := []struct {
		after    time.Duration
		wantTTLs []uint32 // nil: expired
	}{
		{0, []uint32{60, 60}}, // the entry's TTL, the smallest
		{time.Second, []uint32{59, 59}},
		{59*time.Second + 999*time.Millisecond, []uint32{1, 1}},
		{60 * time.Second, nil},
	}
	for _, tc := range tests {
		t.Run(tc.after.String(), func(t *testing.T) {
			got, ok := answer(c, q, t0.Add(tc.after))
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
		opts Options
		m    func(t *testing.T) *dns.Msg
	}{
		{"SERVFAIL", Options{}, func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeServerFailure, nil) }},
		{"REFUSED", Options{}, func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeRefused, nil) }},
		{"NXDOMAIN without SOA", Options{}, func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeNameError, nil) }},
		{"NODATA without SOA", Options{}, func(t *testing.T) *dns.Msg { return msg(t, dns.RcodeSuccess, nil) }},
		{"TTL 0", Options{}, func(t *testing.T) *dns.Msg {
			return msg(t, dns.RcodeSuccess, []string{"www.example.com. 0 IN A 192.0.2.1"})
		}},
		{"TTL 0 whatever the minimum", Options{MinTTL: time.Minute}, func(t *testing.T) *dns.Msg {
			return msg(t, dns.RcodeSuccess, []string{"www.example.com. 0 IN A 192.0.2.1"})
		}},
		{"truncated", Options{}, func(t *testing.T) *dns.Msg {
			m := msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1"})
			m.Truncated = true
			return m
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, tc.opts)
			q := query("www.example.com.", dns.TypeA)
			in := tc.m(t)
			if served := c.StoreAnswer(q, in, t0); served != in {
				t.Errorf("StoreAnswer served %v, want the reply itself", served)
			}
			if got, ok := answer(c, q, t0); ok {
				t.Errorf("cached: %v", got)
			}
			if s := c.Stats(); s.Answers.Inserts != 0 || s.Entries != 0 {
				t.Errorf("stats %+v, want nothing inserted", s)
			}
		})
	}
}

func TestTTLClamps(t *testing.T) {
	const nodata = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 3600"
	tests := []struct {
		name    string
		opts    Options
		rcode   int
		answer  []string
		soa     string
		wantTTL uint32 // served, and how long the entry lives
	}{
		{name: "positive as given", rcode: dns.RcodeSuccess, answer: []string{"a.example.com. 300 IN A 192.0.2.1"}, wantTTL: 300},
		{name: "positive raised to the minimum", opts: Options{MinTTL: time.Minute}, rcode: dns.RcodeSuccess,
			answer: []string{"a.example.com. 5 IN A 192.0.2.1"}, wantTTL: 60},
		{name: "positive capped by the maximum", opts: Options{MaxTTL: time.Hour}, rcode: dns.RcodeSuccess,
			answer: []string{"a.example.com. 172800 IN A 192.0.2.1"}, wantTTL: 3600},
		{name: "positive capped by the default maximum, one day", rcode: dns.RcodeSuccess,
			answer: []string{"a.example.com. 604800 IN A 192.0.2.1"}, wantTTL: 86400},
		{name: "NXDOMAIN: SOA MINIMUM when smaller", rcode: dns.RcodeNameError, soa: soa, wantTTL: 300},
		{name: "NODATA: SOA TTL when smaller", rcode: dns.RcodeSuccess,
			soa: "example.com. 120 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300", wantTTL: 120},
		{name: "CNAME before the NXDOMAIN bounds it", rcode: dns.RcodeNameError,
			answer: []string{"a.example.com. 30 IN CNAME b.example.com."}, soa: soa, wantTTL: 30},
		{name: "negative capped", opts: Options{NegativeMaxTTL: time.Minute}, rcode: dns.RcodeNameError, soa: soa, wantTTL: 60},
		{name: "negative capped by the default, an hour", rcode: dns.RcodeSuccess, soa: nodata, wantTTL: 3600},
		{name: "negative raised to the minimum", opts: Options{MinTTL: 10 * time.Minute}, rcode: dns.RcodeNameError, soa: soa, wantTTL: 600},
		{name: "negative: its cap beats the minimum", opts: Options{MinTTL: 10 * time.Minute, NegativeMaxTTL: time.Minute},
			rcode: dns.RcodeNameError, soa: soa, wantTTL: 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, tc.opts)
			q := query("a.example.com.", dns.TypeA)
			var ns []string
			if tc.soa != "" {
				ns = []string{tc.soa}
			}
			in := msg(t, tc.rcode, tc.answer, ns...)
			before := in.String()
			served := c.StoreAnswer(q, in, t0)
			if in.String() != before {
				t.Errorf("StoreAnswer changed its input:\n%s\nwant\n%s", in, before)
			}
			for _, r := range append(served.Answer, served.Ns...) {
				if r.Header().Ttl != tc.wantTTL {
					t.Errorf("served %v, want TTL %d", r, tc.wantTTL)
				}
			}
			life := time.Duration(tc.wantTTL) * time.Second
			if _, ok := answer(c, q, t0.Add(life-time.Second)); !ok {
				t.Errorf("gone before %v", life)
			}
			if got, ok := answer(c, q, t0.Add(life)); ok {
				t.Errorf("alive at %v: %v", life, got)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opts := range []Options{
		{MaxEntries: -1}, {MaxBytes: -1}, {MinTTL: -time.Second}, {MaxTTL: -time.Second},
		{NegativeMaxTTL: -time.Second}, {StaleMaxAge: -time.Second},
		{MinTTL: 2 * time.Hour, MaxTTL: time.Hour}, {Policy: "arc"},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) accepted", opts)
		}
	}
}

func TestKeys(t *testing.T) {
	c := newCache(t, Options{})
	c.StoreAnswer(query("WWW.Example.COM.", dns.TypeA), msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1"}), t0)
	do := query("www.example.com.", dns.TypeA)
	do.DO = true
	doAnswer := msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.99"})
	c.StoreAnswer(do, doAnswer, t0)

	tests := []struct {
		name   string
		q      Query
		wantIP string // "": a miss
	}{
		{"another case", query("www.EXAMPLE.com", dns.TypeA), "192.0.2.1"},
		{"DO", do, "192.0.2.99"},
		{"CD", Query{Question: do.Question, CD: true}, ""},
		{"another type", query("www.example.com.", dns.TypeAAAA), ""},
		{"another class", Query{Question: dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassCHAOS}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := answer(c, tc.q, t0)
			switch {
			case tc.wantIP == "" && ok:
				t.Errorf("hit %v, want a miss", got)
			case tc.wantIP != "" && !ok:
				t.Errorf("miss, want %s", tc.wantIP)
			case ok && got.Answer[0].(*dns.A).A.String() != tc.wantIP:
				t.Errorf("got %v, want %s", got.Answer[0], tc.wantIP)
			}
		})
	}
}

func TestCopies(t *testing.T) {
	c := newCache(t, Options{})
	q := query("www.example.com.", dns.TypeA)
	in := msg(t, dns.RcodeSuccess, []string{"www.example.com. 60 IN A 192.0.2.1"})
	served := c.StoreAnswer(q, in, t0)
	in.Answer[0].(*dns.A).A[3] = 9
	served.Answer[0].Header().Ttl = 9999
	got, _ := answer(c, q, t0)
	got.Answer[0].Header().Ttl = 7777
	again, _ := answer(c, q, t0)
	if again.Answer[0].String() != "www.example.com.\t60\tIN\tA\t192.0.2.1" {
		t.Errorf("cache changed by its callers: %v", again.Answer[0])
	}
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
	if _, ok := answer(c, query("nope.example.com.", dns.TypeA), t0); ok {
		t.Error("a name error answered as an A answer")
	}
	if s := c.Stats(); s.NameErrors.Inserts != 1 || s.Answers.Inserts != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestHitMissExpiredCounters(t *testing.T) {
	c := newCache(t, Options{})
	q := query("www.example.com.", dns.TypeA)
	answer(c, q, t0)
	c.StoreAnswer(q, msg(t, dns.RcodeSuccess, []string{"www.example.com. 5 IN A 192.0.2.1"}), t0)
	answer(c, q, t0)
	answer(c, q, t0.Add(5*time.Second))
	s := c.Stats().Answers
	if s.Hits != 1 || s.Misses != 2 || s.Expired != 1 || s.Entries != 0 || s.Inserts != 1 {
		t.Errorf("answers %+v, want 1 insert, 1 hit, 2 misses, 1 expired, 0 entries", s)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newCache(t, Options{MaxEntries: 2000})
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				name := fmt.Sprintf("n%d.example.com.", (i*7+g)%3000)
				q := query(name, dns.TypeA)
				now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
				c.StoreAnswer(q, aa(msg(t, dns.RcodeSuccess, []string{name + " 5 IN A 192.0.2.1"})), now)
				answer(c, q, now)
				c.StaleAnswer(q, now)
				if i%500 == 0 {
					c.Entries(Filter{Limit: 10}, now)
					c.FlushName(name)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if s := c.Stats(); s.Entries > 2000 {
		t.Errorf("%d entries, bound 2000", s.Entries)
	}
}

func TestKnownIsNotCounted(t *testing.T) {
	c := newCache(t, Options{})
	storeA(t, c, "www.example.com.", 100, t0)
	if _, ok := c.Known(query("www.example.com.", dns.TypeA), t0.Add(95*time.Second)); !ok {
		t.Error("Known missed a fresh entry")
	}
	if _, ok := c.Known(query("nope.example.com.", dns.TypeA), t0); ok {
		t.Error("Known found what was never stored")
	}
	if _, ok := c.Known(query("www.example.com.", dns.TypeA), t0.Add(100*time.Second)); ok {
		t.Error("Known found an expired entry")
	}
	if s := c.Stats().Answers; s.Hits != 0 || s.Misses != 0 || s.Prefetches != 0 {
		t.Errorf("answers %+v: Known counted", s)
	}
	if _, refresh, _ := c.Answer(query("www.example.com.", dns.TypeA), t0.Add(95*time.Second)); !refresh {
		t.Error("Known took the refresh that Answer should give")
	}
}

// A reply stored for a query without DO keeps no DNSSEC records, but for
// the type asked; one stored for DO keeps them all.
func TestStoreAnswerWithoutDO(t *testing.T) {
	c := newCache(t, Options{})
	now := t0
	sig := "www.example.com. 300 IN RRSIG A 13 3 300 20300101000000 20200101000000 1 example.com. AAAA"
	m := new(dns.Msg)
	m.Answer = dnstest.RRs(t, "www.example.com. 300 IN A 192.0.2.1", sig)
	q := Query{Question: dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}}
	if got := c.StoreAnswer(q, m, now); len(got.Answer) != 1 {
		t.Errorf("without DO: stored %v, want the A record alone", got.Answer)
	}
	if len(m.Answer) != 2 {
		t.Errorf("the caller's message changed: %v", m.Answer)
	}
	q.DO = true
	if got := c.StoreAnswer(q, m, now); len(got.Answer) != 2 {
		t.Errorf("with DO: stored %v, want the A record and its RRSIG", got.Answer)
	}
	q = Query{Question: dns.Question{Name: "www.example.com.", Qtype: dns.TypeRRSIG, Qclass: dns.ClassINET}}
	m.Answer = dnstest.RRs(t, sig)
	if got := c.StoreAnswer(q, m, now); len(got.Answer) != 1 {
		t.Errorf("an RRSIG question without DO: stored %v, want the RRSIG it asked for", got.Answer)
	}
}
