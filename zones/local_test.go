package zones

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

func TestBuiltinZones(t *testing.T) {
	builtin, err := Builtin(BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLocal(builtin)
	tests := []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
	}{
		{"localhost.", dns.TypeA, dns.RcodeSuccess, []string{"localhost. 10800 IN A 127.0.0.1"}},
		{"app.localhost.", dns.TypeAAAA, dns.RcodeSuccess, []string{"app.localhost. 10800 IN AAAA ::1"}},
		{"foo.invalid.", dns.TypeA, dns.RcodeNameError, nil},
		{"x.test.", dns.TypeA, dns.RcodeNameError, nil},
		{"duckduckgo.onion.", dns.TypeA, dns.RcodeNameError, nil},
		{"printer.home.arpa.", dns.TypeA, dns.RcodeNameError, nil},
		{"1.1.168.192.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
		{"5.4.3.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
		{"1.0.20.172.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
		{"1.0.0.127.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"1.0.0.127.in-addr.arpa. 10800 IN PTR localhost."}},
		{"1." + repeat("0.", 31) + "ip6.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"1." + repeat("0.", 31) + "ip6.arpa. 10800 IN PTR localhost."}},
		{"invalid.", dns.TypeSOA, dns.RcodeSuccess, []string{"invalid. 10800 IN SOA invalid. nobody.invalid. 1 3600 1200 604800 10800"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _, ok := l.Answer(dns.Question{Name: tc.name, Qtype: tc.qtype, Qclass: dns.ClassINET})
			if !ok {
				t.Fatal("not answered locally")
			}
			if m.Rcode != tc.rcode || !m.Authoritative {
				t.Errorf("rcode %s aa %v, want %s aa", dns.RcodeToString[m.Rcode], m.Authoritative, dns.RcodeToString[tc.rcode])
			}
			if got, want := dnstest.Sorted(m.Answer), dnstest.Sorted(dnstest.RRs(t, tc.answer...)); !slices.Equal(got, want) {
				t.Errorf("answer %q, want %q", got, want)
			}
			if tc.rcode == dns.RcodeNameError && len(m.Ns) != 1 {
				t.Errorf("NXDOMAIN without the SOA: %v", m.Ns)
			}
		})
	}
	for _, name := range []string{"www.example.com.", "1.0.53.128.in-addr.arpa.", "example."} {
		if _, _, ok := l.Answer(dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}); ok {
			t.Errorf("%s answered locally", name)
		}
	}
	lab, err := Builtin(BuiltinOptions{KeepLoopbackReverse: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := NewLocal(lab).Answer(dns.Question{Name: "1.0.53.127.in-addr.arpa.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}); ok {
		t.Error("127.in-addr.arpa answered locally with KeepLoopbackReverse")
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestLoadDirOverridesBuiltin(t *testing.T) {
	dir := t.TempDir()
	home := "$ORIGIN home.arpa.\n@ 3600 IN SOA ns.home.arpa. admin.home.arpa. 1 3600 600 86400 300\n@ 3600 IN NS ns\nns 3600 IN A 192.168.1.1\nprinter 3600 IN A 192.168.1.20\n"
	block := "$ORIGIN ads.example.\n@ 3600 IN SOA ns.ads.example. admin.ads.example. 1 3600 600 86400 300\n@ 3600 IN NS ns\n"
	for name, text := range map[string]string{"home.arpa.zone": home, "ads.example.zone": block, "README": "not a zone"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	own, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := Builtin(BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLocal(own, builtin)
	m, zone, ok := l.Answer(dns.Question{Name: "printer.home.arpa.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if !ok || zone != "home.arpa." || len(m.Answer) != 1 {
		t.Errorf("printer.home.arpa: %v %s %v; want the user's record", m, zone, ok)
	}
	if m, _, ok := l.Answer(dns.Question{Name: "tracker.ads.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); !ok || m.Rcode != dns.RcodeNameError {
		t.Errorf("blocked name: %v %v; want NXDOMAIN", m, ok)
	}

	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "broken.zone"), []byte("$ORIGIN broken.\n@ IN A 1.2.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(bad); err == nil {
		t.Error("a broken zone file was accepted")
	}
	if _, err := LoadDir(filepath.Join(bad, "missing")); err == nil {
		t.Error("a missing folder was accepted")
	}
}

// TestLocalDeepestZone: the deepest local zone containing a name answers
// it, whatever the case or escapes of the name; a root zone contains
// every name no deeper zone holds.
func TestLocalDeepestZone(t *testing.T) {
	soa := func(origin string) string {
		origin = strings.TrimPrefix(origin, ".")
		return "@ 300 IN SOA ns." + origin + " hostmaster." + origin + " 1 7200 3600 1209600 300\n" +
			"@ 300 IN NS ns." + origin + "\n"
	}
	l := NewLocal([]*Zone{
		parseZone(t, "corp.", soa("corp.")+"www 300 IN A 192.0.2.1\n"),
		parseZone(t, "lab.corp.", soa("lab.corp.")+"www 300 IN A 192.0.2.2\n"),
		parseZone(t, ".", soa(".")),
	})
	tests := []struct {
		qname, zone string
	}{
		{"www.corp.", "corp."},
		{"WWW.Lab.CORP.", "lab.corp."},
		{"a.b.lab.corp.", "lab.corp."},
		{"xlab.corp.", "corp."},
		{`a\.lab.corp.`, "corp."}, // one label "a.lab" under corp.
		{"example.com.", "."},
		{".", "."},
	}
	for _, tc := range tests {
		t.Run(tc.qname, func(t *testing.T) {
			_, zone, ok := l.Answer(dns.Question{Name: tc.qname, Qtype: dns.TypeA, Qclass: dns.ClassINET})
			if !ok || zone != tc.zone {
				t.Errorf("answered %v by zone %q, want zone %q", ok, zone, tc.zone)
			}
		})
	}
	if _, _, ok := NewLocal(l.zones[:2]).Answer(dns.Question{Name: "example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); ok {
		t.Error("a name outside every local zone was answered")
	}
}
