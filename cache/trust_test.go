package cache

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// referral is example.com's delegation as com's servers give it.
func referral(t *testing.T) *dns.Msg {
	return &dns.Msg{
		Ns:    []dns.RR{rr(t, "example.com. 172800 IN NS ns1.example.com.")},
		Extra: []dns.RR{rr(t, "ns1.example.com. 172800 IN A 127.53.2.1")},
	}
}

func TestReferralDataNeverAnswers(t *testing.T) {
	c := newCache(t, Options{})
	c.StoreDelegation("example.com.", referral(t), t0)
	if got, ok := answer(c, query("example.com.", dns.TypeNS), t0); ok {
		t.Errorf("a referral's NS answered an NS question: %v", got)
	}
	if got, ok := answer(c, query("ns1.example.com.", dns.TypeA), t0); ok {
		t.Errorf("glue answered an A question: %v", got)
	}
	got, ok := c.Delegation("EXAMPLE.com.", t0.Add(time.Hour))
	if !ok || len(got.Ns) != 1 || len(got.Extra) != 1 || got.Extra[0].Header().Ttl != 86400-3600 {
		t.Errorf("delegation %v, %v; want NS and glue with TTL 82800 (capped at one day, an hour gone)", got, ok)
	}
}

func TestGlueNeverOverwritesAnswers(t *testing.T) {
	c := newCache(t, Options{})
	// The authoritative answer for the server's address, then a referral
	// whose glue says otherwise (a lying or stale parent).
	c.StoreAnswer(query("ns1.example.com.", dns.TypeA), aa(msg(t, dns.RcodeSuccess, []string{"ns1.example.com. 3600 IN A 127.53.2.2"})), t0)
	c.StoreAnswer(query("example.com.", dns.TypeNS), aa(msg(t, dns.RcodeSuccess, []string{"example.com. 3600 IN NS ns1.example.com."})), t0)
	c.StoreDelegation("example.com.", referral(t), t0.Add(time.Second))

	d, ok := c.Delegation("example.com.", t0.Add(time.Second))
	if !ok {
		t.Fatal("no delegation")
	}
	if len(d.Extra) != 1 || d.Extra[0].(*dns.A).A.String() != "127.53.2.2" {
		t.Errorf("delegation's address %v, want the authoritative answer's 127.53.2.2", d.Extra)
	}
	if d.Ns[0].Header().Ttl != 3599 {
		t.Errorf("delegation's NS %v, want the child's (TTL 3600, a second gone), not the parent's", d.Ns[0])
	}
	if s := c.Stats().RRsets; s.Refused != 2 {
		t.Errorf("rrsets %+v, want the glue and the referral's NS refused", s)
	}
	// Once the answer has expired, the glue may take its place.
	c.StoreDelegation("example.com.", referral(t), t0.Add(2*time.Hour))
	if d, _ := c.Delegation("example.com.", t0.Add(2*time.Hour)); len(d.Extra) != 1 || d.Extra[0].(*dns.A).A.String() != "127.53.2.1" {
		t.Errorf("after expiry: %v, want the glue's 127.53.2.1", d.Extra)
	}
}

func TestAnswersReplaceGlue(t *testing.T) {
	c := newCache(t, Options{})
	c.StoreDelegation("example.com.", referral(t), t0)
	c.StoreAnswer(query("ns1.example.com.", dns.TypeA), aa(msg(t, dns.RcodeSuccess, []string{"ns1.example.com. 60 IN A 127.53.2.3"})), t0)
	d, _ := c.Delegation("example.com.", t0)
	if len(d.Extra) != 1 || d.Extra[0].(*dns.A).A.String() != "127.53.2.3" {
		t.Errorf("delegation's address %v, want the answer's 127.53.2.3", d.Extra)
	}
}

func TestAnswersFromRRsets(t *testing.T) {
	c := newCache(t, Options{})
	// An authoritative answer to www's A question, through a CNAME.
	chain := aa(msg(t, dns.RcodeSuccess, []string{
		"www.example.com. 300 IN CNAME web.example.com.",
		"web.example.com. 60 IN A 192.0.2.7",
	}))
	c.StoreAnswer(query("www.example.com.", dns.TypeA), chain, t0)
	// A forwarder's (non-authoritative) answer.
	c.StoreAnswer(query("fwd.example.net.", dns.TypeA), msg(t, dns.RcodeSuccess, []string{"fwd.example.net. 60 IN A 192.0.2.8"}), t0)

	tests := []struct {
		name string
		q    Query
		want string // the first record's type; "": a miss
	}{
		{"the target's own RRset", query("web.example.com.", dns.TypeA), "A"},
		{"the CNAME, for another type", query("www.example.com.", dns.TypeAAAA), "CNAME"},
		{"the CNAME, asked for", query("www.example.com.", dns.TypeCNAME), "CNAME"},
		{"a non-authoritative answer's RRset", query("fwd.example.net.", dns.TypeA), "A"},
		{"nothing for another type", query("web.example.com.", dns.TypeMX), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := answer(c, tc.q, t0.Add(time.Second))
			switch {
			case tc.want == "" && ok:
				t.Errorf("hit %v, want a miss", got)
			case tc.want != "" && !ok:
				t.Errorf("miss, want %s", tc.want)
			case ok && dns.TypeToString[got.Answer[0].Header().Rrtype] != tc.want:
				t.Errorf("got %v, want %s", got.Answer, tc.want)
			}
		})
	}
	got, _ := answer(c, query("web.example.com.", dns.TypeA), t0.Add(10*time.Second))
	if got.Answer[0].Header().Ttl != 50 {
		t.Errorf("RRset TTL %d ten seconds on, want 50", got.Answer[0].Header().Ttl)
	}
}

func TestTrustOrder(t *testing.T) {
	order := []Trust{TrustNone, TrustAdditional, TrustAuthority, TrustAdditionalAA, TrustAnswer, TrustAuthorityAA, TrustAnswerAA}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Errorf("%v ranks at or below %v", order[i], order[i-1])
		}
	}
	for _, tr := range order {
		if want := tr == TrustAnswer || tr == TrustAnswerAA; tr.answers() != want {
			t.Errorf("%v answers: %v, want %v", tr, tr.answers(), want)
		}
	}
}
