package resolver

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

func TestClassify(t *testing.T) {
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	tests := []struct {
		name  string
		zone  string
		reply *dns.Msg
		want  replyKind
	}{
		{"answer", "example.test.", answer(t, "www.example.test. 60 IN A 192.0.2.1"), kindAnswer},
		{"non-authoritative answer is still an answer", "example.test.",
			&dns.Msg{Answer: dnstest.RRs(t, "www.example.test. 60 IN A 192.0.2.1")}, kindAnswer},
		{"answer outside the zone asked is not believed", "other.test.",
			answer(t, "www.example.test. 60 IN A 192.0.2.1"), kindLame},
		{"referral", "test.", referralTo(t, []string{"example.test. 60 IN NS ns.example.test."}), kindReferral},
		{"referral to a sibling is lame", "test.", referralTo(t, []string{"other.test. 60 IN NS ns.other.test."}), kindLame},
		{"upward referral is lame", "example.test.", referralTo(t, []string{"test. 60 IN NS ns.test."}), kindLame},
		{"referral to the same zone is lame", "example.test.", referralTo(t, []string{"example.test. 60 IN NS ns.test."}), kindLame},
		{"NXDOMAIN", "example.test.", negative(t, dns.RcodeNameError, soaExample), kindNXDOMAIN},
		{"non-authoritative NXDOMAIN without SOA is lame", "example.test.", failure(dns.RcodeNameError), kindLame},
		{"NODATA", "example.test.", negative(t, dns.RcodeSuccess, soaExample), kindNODATA},
		{"SOA of another zone does not make NODATA", "example.test.",
			&dns.Msg{Ns: dnstest.RRs(t, "evil.test. 60 IN SOA a. b. 1 2 3 4 5")}, kindLame},
		{"empty non-authoritative reply is lame", "example.test.", &dns.Msg{}, kindLame},
		{"referral with AA wrongly set", "test.", func() *dns.Msg {
			m := referralTo(t, []string{"example.test. 60 IN NS ns.example.test."})
			m.Authoritative = true
			return m
		}(), kindReferral},
		{"REFUSED is lame", "example.test.", failure(dns.RcodeRefused), kindLame},
		{"SERVFAIL is a failure", "example.test.", failure(dns.RcodeServerFailure), kindFailure},
		{"FORMERR is a failure", "example.test.", failure(dns.RcodeFormatError), kindFailure},
		{"truncated is a failure", "example.test.", func() *dns.Msg { m := answer(t); m.Truncated = true; return m }(), kindFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.reply, q, tc.zone); got.kind != tc.want {
				t.Errorf("classify = %s (%s), want %s", got.kind, got.why, tc.want)
			}
		})
	}
}

func TestReferralGlue(t *testing.T) {
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	reply := referralTo(t,
		[]string{"example.test. 60 IN NS ns1.example.test.", "example.test. 60 IN NS ns.elsewhere.", "example.test. 60 IN NS ns2.example.test."},
		"ns1.example.test. 60 IN A 127.0.0.3", // in the child: kept
		"ns.elsewhere. 60 IN A 127.0.0.66",    // outside test.: dropped
		"unrelated.test. 60 IN A 127.0.0.67",  // not a server of the zone: dropped
		"ns2.example.test. 60 IN AAAA ::1",    // kept
	)
	out := classify(reply, q, "test.")
	if out.kind != kindReferral {
		t.Fatalf("kind %s", out.kind)
	}
	var got []string
	for _, s := range out.next.servers {
		addrs := make([]string, 0, len(s.Addrs))
		for _, a := range s.Addrs {
			addrs = append(addrs, a.String())
		}
		got = append(got, s.Name+"="+strings.Join(addrs, ","))
	}
	want := []string{"ns1.example.test.=127.0.0.3", "ns.elsewhere.=", "ns2.example.test.=::1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("servers %q, want %q", got, want)
	}
	if len(out.next.glue) != 2 {
		t.Errorf("glue kept for the cache: %v", out.next.glue)
	}
}

// FuzzClassify feeds arbitrary bytes as an upstream reply: classify must
// not panic, and whatever it keeps must lie inside the zone asked.
func FuzzClassify(f *testing.F) {
	for _, m := range []*dns.Msg{
		answer(f, "www.example.test. 60 IN CNAME a.example.test.", "a.example.test. 60 IN A 192.0.2.1"),
		answer(f, "example.test. 60 IN DNAME other.test.", "www.example.test. 60 IN CNAME www.other.test."),
		referralTo(f, []string{"example.test. 60 IN NS ns.example.test."}, "ns.example.test. 60 IN A 127.0.0.1"),
		negative(f, dns.RcodeNameError, soaExample),
	} {
		m.Question = []dns.Question{{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "test.")
		f.Add(b, "example.test.")
	}
	f.Fuzz(func(t *testing.T, b []byte, zone string) {
		reply := new(dns.Msg)
		if reply.Unpack(b) != nil || len(reply.Question) != 1 {
			return
		}
		if _, ok := dns.IsDomainName(zone); !ok {
			return
		}
		zone = dns.Fqdn(zone)
		out := classify(reply, reply.Question[0], zone)
		if out.msg != nil {
			for _, rr := range append(append([]dns.RR{}, out.msg.Answer...), out.msg.Ns...) {
				if !dns.IsSubDomain(zone, rr.Header().Name) {
					t.Errorf("kept %v from outside %s", rr, zone)
				}
			}
		}
		if out.next != nil {
			if !dns.IsSubDomain(zone, out.next.zone) || canonical(out.next.zone) == canonical(zone) {
				t.Errorf("referral from %s to %s", zone, out.next.zone)
			}
			for _, g := range out.next.glue {
				if !dns.IsSubDomain(zone, g.Header().Name) {
					t.Errorf("glue %v from outside %s", g, zone)
				}
			}
		}
	})
}

// TestClassifyScrubsAttacks feeds classify the replies of the lab's
// cache-poisoning attackers (zones/attack.go), rebuilt here under .test,
// and checks what it keeps: the records the walk may believe and cache.
// Everything else, the attacker's plants among it, must be gone.
func TestClassifyScrubsAttacks(t *testing.T) {
	www := dns.Question{Name: "www.poison.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	with := func(m *dns.Msg, f func(*dns.Msg)) *dns.Msg { f(m); return m }
	const (
		cname      = "www.poison.test. 3600 IN CNAME www.victim.test."
		realA      = "www.poison.test. 3600 IN A 192.0.2.88"
		bogusA     = "www.victim.test. 86400 IN A 192.0.2.66"
		bogusAAAA  = "www.victim.test. 86400 IN AAAA 2001:db8::66"
		bogusNS    = "victim.test. 86400 IN NS ns1.poison.test."
		bogusGlue  = "ns1.victim.test. 86400 IN A 127.0.0.66"
		parentNS   = "test. 86400 IN NS ns1.poison.test."
		parentGlue = "ns1.poison.test. 86400 IN A 127.0.0.66"
		poisonSOA  = "poison.test. 300 IN SOA ns1.poison.test. hostmaster.poison.test. 1 2 3 4 300"
		parentSOA  = "test. 86400 IN SOA ns.test. hostmaster.test. 1 2 3 4 86400"
	)
	tests := []struct {
		name  string
		zone  string
		q     dns.Question
		reply *dns.Msg
		want  replyKind
		kept  []string // every record the outcome keeps, in any section
	}{
		{
			name: "out of bailiwick: addresses where an in-zone CNAME leads, NS and glue for the victim",
			zone: "poison.test.", q: www,
			reply: with(answer(t, cname, bogusA, bogusAAAA), func(m *dns.Msg) {
				m.Ns, m.Extra = dnstest.RRs(t, bogusNS), dnstest.RRs(t, bogusGlue)
			}),
			want: kindAnswer, kept: []string{cname},
		},
		{
			name: "out of bailiwick: the victim's record beside the real one",
			zone: "poison.test.", q: www,
			reply: answer(t, realA, "www.victim.test. 86400 IN A 192.0.2.66"),
			want:  kindAnswer, kept: []string{realA},
		},
		{
			name: "out of bailiwick: a CNAME owned by the victim, leading back into the zone",
			zone: "poison.test.", q: www,
			reply: answer(t, cname, "www.victim.test. 86400 IN CNAME evil.poison.test.", "evil.poison.test. 86400 IN A 192.0.2.66"),
			want:  kindAnswer, kept: []string{cname},
		},
		{
			name: "out of bailiwick: a DNAME owned by the victim's parent",
			zone: "poison.test.", q: dns.Question{Name: "www.victim.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
			reply: answer(t, "victim.test. 86400 IN DNAME poison.test.", "www.poison.test. 86400 IN A 192.0.2.66"),
			want:  kindLame,
		},
		{
			name: "out of bailiwick: an NXDOMAIN whose answer plants the victim's address",
			zone: "poison.test.", q: dns.Question{Name: "nope.poison.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
			reply: with(negative(t, dns.RcodeNameError, poisonSOA, bogusA), func(m *dns.Msg) {
				m.Ns = append(m.Ns, dnstest.RRs(t, bogusNS)...)
				m.Extra = dnstest.RRs(t, bogusGlue)
			}),
			want: kindNXDOMAIN, kept: []string{poisonSOA},
		},
		{
			name: "parent zone: a DNAME at the parent's apex ahead of the data",
			zone: "poison.test.", q: www,
			reply: with(answer(t, "test. 86400 IN DNAME poison.test.", realA), func(m *dns.Msg) {
				m.Ns, m.Extra = dnstest.RRs(t, parentNS), dnstest.RRs(t, parentGlue)
			}),
			want: kindAnswer, kept: []string{realA},
		},
		{
			name: "parent zone: a DNAME at the parent's apex with its synthesized CNAME, no data",
			zone: "poison.test.", q: www,
			reply: answer(t, "test. 86400 IN DNAME poison.test.", "www.poison.test. 86400 IN CNAME www.poison.poison.test."),
			want:  kindAnswer, kept: []string{"www.poison.test. 86400 IN CNAME www.poison.poison.test."},
		},
		{
			name: "parent zone: an NXDOMAIN with the parent's SOA is not cached",
			zone: "poison.test.", q: dns.Question{Name: "nope.poison.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
			reply: negative(t, dns.RcodeNameError, parentSOA),
			want:  kindNXDOMAIN,
		},
		{
			name: "parent zone: a NODATA with the parent's SOA is lame",
			zone: "poison.test.", q: www,
			reply: with(negative(t, dns.RcodeSuccess, parentSOA), func(m *dns.Msg) { m.Authoritative = false }),
			want:  kindLame,
		},
		{
			name: "parent zone: an upward referral with glue for the parent's server",
			zone: "poison.test.", q: www,
			reply: referralTo(t, []string{parentNS}, parentGlue),
			want:  kindLame,
		},
		{
			name: "parent zone: a referral to the root with glue",
			zone: "poison.test.", q: www,
			reply: referralTo(t, []string{". 518400 IN NS a.root.test."}, "a.root.test. 518400 IN A 127.0.0.66"),
			want:  kindLame,
		},
		{
			name: "sideways: a referral to the victim with glue",
			zone: "poison.test.", q: dns.Question{Name: "www.victim.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
			reply: referralTo(t, []string{bogusNS}, bogusGlue),
			want:  kindLame,
		},
		{
			name: "a referral whose glue holds addresses for names outside the zone asked",
			zone: "test.", q: dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
			reply: referralTo(t, []string{"example.test. 172800 IN NS ns1.example.test.", "example.test. 172800 IN NS ns.victim.example."},
				"ns1.example.test. 172800 IN A 127.0.0.3", "ns.victim.example. 172800 IN A 127.0.0.66", "www.victim.example. 172800 IN A 192.0.2.66"),
			want: kindReferral,
			kept: []string{"example.test. 172800 IN NS ns1.example.test.", "example.test. 172800 IN NS ns.victim.example.",
				"ns1.example.test. 172800 IN A 127.0.0.3"},
		},
		{
			name: "huge TTLs are kept as they are: capping them is the cache's work",
			zone: "poison.test.", q: www,
			reply: answer(t, "www.poison.test. 4294967295 IN A 192.0.2.89"),
			want:  kindAnswer, kept: []string{"www.poison.test. 4294967295 IN A 192.0.2.89"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.reply.Question = []dns.Question{tc.q}
			out := classify(tc.reply, tc.q, tc.zone)
			if out.kind != tc.want {
				t.Errorf("classify = %s (%s), want %s", out.kind, out.why, tc.want)
			}
			var kept []dns.RR
			if out.msg != nil {
				kept = append(append(append(kept, out.msg.Answer...), out.msg.Ns...), out.msg.Extra...)
			}
			if out.next != nil {
				kept = append(append(kept, out.next.ns...), out.next.glue...)
			}
			if got, want := dnstest.Sorted(kept), dnstest.Sorted(dnstest.RRs(t, tc.kept...)); !slices.Equal(got, want) {
				t.Errorf("kept\n got %q\nwant %q", got, want)
			}
		})
	}
}
