package zones

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// apex is a minimal valid zone head for example.
const apex = `$ORIGIN example.
$TTL 3600
@ IN SOA ns.example. hostmaster.example. 1 7200 3600 1209600 300
@ IN NS ns.example.
ns IN A 192.0.2.1
`

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name    string
		origin  string
		text    string
		wantErr error  // a sentinel, or nil for a syntax error
		wantIn  string // text the message must contain
	}{
		{name: "empty origin", origin: "", text: apex, wantErr: errNoOrigin},
		{name: "invalid origin", origin: "a..b.", text: apex, wantErr: errNoOrigin},
		{
			name: "no SOA", origin: "example.",
			text:    "$ORIGIN example.\n@ 3600 IN NS ns.example.\n",
			wantErr: errNoSOA,
		},
		{
			name: "empty file", origin: "example.", text: "", wantErr: errNoSOA,
		},
		{
			name: "two SOA", origin: "example.",
			text:    apex + "@ IN SOA ns2.example. hostmaster.example. 2 7200 3600 1209600 300\n",
			wantErr: errManySOA,
		},
		{
			name: "SOA below the origin", origin: "example.",
			text:    apex + "sub IN SOA ns.example. hostmaster.example. 1 7200 3600 1209600 300\n",
			wantErr: errSOANotApex, wantIn: "sub.example.",
		},
		{
			name: "no NS at the origin", origin: "example.",
			text:    "$ORIGIN example.\n@ 3600 IN SOA ns.example. h.example. 1 2 3 4 5\nsub 3600 IN NS ns.example.\n",
			wantErr: errNoNS,
		},
		{
			name: "record outside the origin", origin: "example.",
			text:    apex + "www.example.net. IN A 192.0.2.2\n",
			wantErr: errOutOfZone, wantIn: "www.example.net.",
		},
		{
			name: "parent of the origin", origin: "sub.example.",
			text:    "$ORIGIN sub.example.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\nexample. 3600 IN A 192.0.2.1\n",
			wantErr: errOutOfZone,
		},
		{
			name: "CNAME beside A", origin: "example.",
			text:    apex + "www IN CNAME other.example.\nwww IN A 192.0.2.2\n",
			wantErr: errCNAMEAndData, wantIn: "www.example.",
		},
		{
			name: "CNAME at the apex", origin: "example.",
			text:    apex + "@ IN CNAME other.example.\n",
			wantErr: errCNAMEAndData,
		},
		{
			name: "two CNAMEs", origin: "example.",
			text:    apex + "www IN CNAME a.example.\nwww IN CNAME b.example.\n",
			wantErr: errManyCNAME,
		},
		{
			name: "two DNAMEs", origin: "example.",
			text:    apex + "old IN DNAME a.example.\nold IN DNAME b.example.\n",
			wantErr: errManyDNAME,
		},
		{
			name: "CHAOS class", origin: "example.",
			text:    apex + "version CH TXT \"1\"\n",
			wantErr: errBadClass,
		},
		{
			// Found by FuzzParse: the parser accepts it for UPDATE's sake.
			name: "A record without RDATA", origin: "example.",
			text:    apex + "www IN A\n",
			wantErr: errNoRDATA, wantIn: "www.example.",
		},
		{
			name: "syntax error keeps file and line", origin: "example.",
			text:   apex + "www IN A not-an-address\n",
			wantIn: "at line: 6",
		},
		{
			name: "$INCLUDE refused", origin: "example.",
			text:   apex + "$INCLUDE /etc/passwd\n",
			wantIn: "at line: 6",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := strings.ReplaceAll(tc.name, " ", "-") + ".zone"
			z, err := Parse(strings.NewReader(tc.text), tc.origin, file)
			if err == nil {
				t.Fatalf("Parse = %v, want an error", z)
			}
			t.Logf("error: %v", err)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Parse error = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tc.wantIn)
			}
			if tc.origin != "" && !strings.Contains(err.Error(), file) {
				t.Errorf("Parse error = %q, want it to name the file %s", err, file)
			}
		})
	}
}

func TestParseZone(t *testing.T) {
	z := parseZone(t, "Example.", apex+`
WWW          IN A     192.0.2.10
www          IN A     192.0.2.10
www     60   IN A     192.0.2.11
alias        IN CNAME www.example.
alias        IN RRSIG CNAME 8 2 3600 20300101000000 20200101000000 12345 example. AAAA
a.b.c        IN TXT   "deep"
child        IN NS    ns.child.example.
ns.child     IN A     192.0.2.53
other        IN NS    ns.example.
`)
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"origin is canonical", z.Origin(), "example."},
		{"file", z.File(), "TestParseZone.zone"},
		{"SOA", z.SOA().String(), "example.\t3600\tIN\tSOA\tns.example. hostmaster.example. 1 7200 3600 1209600 300"},
		{"apex NS", len(z.NS()), 1},
		{"delegations", z.Delegations(), []string{"child.example.", "other.example."}},
		{"names are lower-case and exclude empty non-terminals", z.Names(), []string{
			"a.b.c.example.", "alias.example.", "child.example.", "example.", "ns.child.example.", "ns.example.", "other.example.", "www.example.",
		}},
		{"duplicates dropped, lowest TTL taken", rrText(z.RRset("WWW.example.", dns.TypeA)), rrText(dnstest.RRs(t,
			"www.example. 60 IN A 192.0.2.10",
			"www.example. 60 IN A 192.0.2.11",
		))},
		{"RRSIG may sit beside a CNAME", len(z.RRset("alias.example.", dns.TypeRRSIG)), 1},
		{"glue is held", rrText(z.RRset("ns.child.example.", dns.TypeA)), rrText(dnstest.RRs(t, "ns.child.example. 3600 IN A 192.0.2.53"))},
		{"no such RRset", z.RRset("nope.example.", dns.TypeA), []dns.RR(nil)},
		{"records", len(z.Records()), 11},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !equalAny(tc.got, tc.want) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	for _, ent := range []string{"c.example.", "b.c.example."} {
		if got := z.Lookup(ent, dns.TypeA); got.Rcode != dns.RcodeSuccess || len(got.Authority) != 1 {
			t.Errorf("Lookup(%s) = %s with %d authority records, want NODATA for an empty non-terminal",
				ent, dns.RcodeToString[got.Rcode], len(got.Authority))
		}
	}
	if got := z.Lookup("b.example.", dns.TypeA); got.Rcode != dns.RcodeNameError {
		t.Errorf("Lookup(b.example.) = %s, want NXDOMAIN", dns.RcodeToString[got.Rcode])
	}
}

// equalAny compares the values TestParseZone checks.
func equalAny(got, want any) bool {
	switch w := want.(type) {
	case []string:
		g, ok := got.([]string)
		return ok && slices.Equal(g, w)
	case []dns.RR:
		g, ok := got.([]dns.RR)
		return ok && len(g) == len(w)
	}
	return got == want
}

func TestParseLabRoundTrip(t *testing.T) {
	// Every lab zone, printed and parsed again, gives the same records.
	for _, z := range labZoneSet(t) {
		t.Run(z.Origin(), func(t *testing.T) {
			var b strings.Builder
			for _, rr := range z.Records() {
				b.WriteString(rr.String() + "\n")
			}
			again := parseZone(t, z.Origin(), b.String())
			if got, want := rrText(again.Records()), rrText(z.Records()); !slices.Equal(got, want) {
				t.Errorf("round trip:\ngot  %v\nwant %v", got, want)
			}
		})
	}
}

func TestParseLargeRRsetIsFast(t *testing.T) {
	// Regression: duplicate detection once scanned the whole RRset for each
	// record, so one $GENERATE line of 65536 records took a minute.
	const n = 65535
	done := make(chan error, 1)
	var z *Zone
	go func() {
		var err error
		z, err = Parse(strings.NewReader(apex+"$GENERATE 1-65535 @ TXT $\n$GENERATE 1-65535 @ TXT $\n"), "example.", "big.zone")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
	case <-time.After(testTimeout / 2):
		t.Fatalf("Parse of %d records did not finish in %v", n, testTimeout/2)
	}
	if got := len(z.RRset("example.", dns.TypeTXT)); got != n {
		t.Errorf("got %d TXT records, want %d (the second $GENERATE only repeats them)", got, n)
	}
}

func TestCanonicalName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"WWW.Example.COM", "www.example.com."},
		{"www.example.com.", "www.example.com."},
		{"", "."},
		{".", "."},
		{`\065.Example.`, "a.example."},
		{`a\.B.example.`, `a\.b.example.`},
		// Found by FuzzParse: octets that are not UTF-8 must keep the label's length.
		{"0\xf3\xf3.example.", "0\xf3\xf3.example."},
		{"\xc3\x89.example.", "\xc3\x89.example."}, // É in UTF-8 is not an ASCII letter
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := canonicalName(tc.in); got != tc.want {
				t.Errorf("canonicalName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseNonUTF8Owner(t *testing.T) {
	// Found by FuzzParse: a 60-octet label of octets that are not UTF-8
	// once grew past 63 octets when lower-cased, so replies did not pack.
	label := "0" + strings.Repeat("\xf3", 60)
	z := parseZone(t, "example.", apex+label+" IN A 192.0.2.1\n")
	r := z.Lookup(label+".example.", dns.TypeA)
	m := query("example.", dns.TypeA)
	m.Answer = r.Answer
	if _, err := m.Pack(); err != nil || len(r.Answer) != 1 {
		t.Errorf("Lookup answer %v does not pack: %v", r.Answer, err)
	}
}
