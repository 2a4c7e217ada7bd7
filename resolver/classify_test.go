package resolver

import (
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
