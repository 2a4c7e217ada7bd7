package anchors

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// A real-looking DNSKEY (KSK-shaped, ECDSA P-256 public key of 64 octets)
// for parsing tests; nothing is verified with it.
const testKeyB64 = "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="

func TestParseDSAndDNSKEY(t *testing.T) {
	in := `; anchors for a root and two private zones
. 172800 IN DS 20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d ; lower case digest
Example.COM. IN DNSKEY 257 3 13 ( ` + testKeyB64[:40] + `
                                  ` + testKeyB64[40:] + ` ) ; split over lines
$ORIGIN Corp.Example.
$TTL 3600
@        DS     12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
lab      DNSKEY 256 3 13 ` + testKeyB64 + `
`
	s, err := Parse(strings.NewReader(in), "anchors.conf")
	if err != nil {
		t.Fatal(err)
	}
	// Canonical order compares the top label first: com. before example.
	if got, want := s.Zones(), []string{".", "example.com.", "corp.example.", "lab.corp.example."}; !slices.Equal(got, want) {
		t.Errorf("Zones() = %q, want %q", got, want)
	}
	if s.Len() != 4 {
		t.Errorf("Len() = %d, want 4", s.Len())
	}
	ds, keys := s.For(".")
	if len(ds) != 1 || len(keys) != 0 {
		t.Fatalf("For(.) = %v, %v", ds, keys)
	}
	if ds[0].KeyTag != 20326 || ds[0].Digest != "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D" {
		t.Errorf("root DS = %v (digest should be upper-cased)", ds[0])
	}
	// Any case and no final dot.
	ds, keys = s.For("EXAMPLE.com")
	if len(ds) != 0 || len(keys) != 1 {
		t.Fatalf("For(EXAMPLE.com) = %v, %v", ds, keys)
	}
	if keys[0].Hdr.Name != "example.com." || keys[0].PublicKey != testKeyB64 || keys[0].Flags != 257 {
		t.Errorf("example.com DNSKEY = %v", keys[0])
	}
	// $ORIGIN makes @ and relative names.
	if ds, _ := s.For("corp.example."); len(ds) != 1 || ds[0].KeyTag != 12345 || ds[0].Hdr.Name != "corp.example." {
		t.Errorf("For(corp.example.) = %v", ds)
	}
	if _, keys := s.For("lab.corp.example."); len(keys) != 1 || keys[0].Flags != 256 {
		t.Errorf("For(lab.corp.example.) = %v", keys)
	}
	// For returns copies.
	keys[0].Flags = 0
	if _, again := s.For("example.com."); again[0].Flags != 257 {
		t.Error("For returned the set's own record")
	}
	if ds, keys := s.For("nowhere."); ds != nil || keys != nil {
		t.Errorf("For(nowhere.) = %v, %v", ds, keys)
	}
}

func TestZonesCanonicalOrder(t *testing.T) {
	s := mustParse(t, `
b.example. DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
example.   DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
a.example. DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
.          DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
com.       DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
`)
	want := []string{".", "com.", "example.", "a.example.", "b.example."}
	if got := s.Zones(); !slices.Equal(got, want) {
		t.Errorf("Zones() = %q, want %q", got, want)
	}
}

func TestClosest(t *testing.T) {
	s := mustParse(t, `
.                 DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
corp.example.     DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
lab.corp.example. DS 2 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
`)
	for _, c := range []struct{ name, want string }{
		{"www.lab.corp.example.", "lab.corp.example."},
		{"LAB.Corp.Example", "lab.corp.example."},
		{"lab.corp.example.", "lab.corp.example."},
		{"other.corp.example.", "corp.example."},
		{`a\.lab.corp.example.`, "corp.example."}, // "a.lab" is one label, under corp.example.
		{`lab\.corp.example.`, "."},               // one label: "lab.corp" under example.
		{"xcorp.example.", "."},                   // a suffix of the text is not a parent
		{"example.", "."},
		{"www.example.org.", "."},
		{".", "."},
		{"", "."},
	} {
		got, ok := s.Closest(c.name)
		if !ok || got != c.want {
			t.Errorf("Closest(%q) = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	// Without a root anchor, names outside the islands have none.
	island := mustParse(t, "corp.example. DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n")
	if got, ok := island.Closest("www.example.org."); ok {
		t.Errorf("Closest outside the island = %q, true", got)
	}
	if got, ok := island.Closest("a..b."); ok {
		t.Errorf("Closest of a bad name = %q, true", got)
	}
	var empty *Set
	if _, ok := empty.Closest("x."); ok || empty.Len() != 0 || empty.Zones() != nil {
		t.Error("nil Set is not empty")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, in string
		is       error    // the error wraps this, if set
		contains []string // and says these
	}{
		{"other type", "; a comment\n\n. DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\nexample. 300 IN A 192.0.2.1\n",
			ErrNotAnchor, []string{"anchors.conf:4:", "A record"}},
		{"other type after a multi-line record", "example. DNSKEY 257 3 13 (\n " + testKeyB64 + "\n )\n\n; NS next\nexample. NS ns.example.\n",
			ErrNotAnchor, []string{"anchors.conf:6:", "NS"}},
		{"revoked key", "\n\nexample. DNSKEY 385 3 13 " + testKeyB64 + "\n",
			ErrRevoked, []string{"anchors.conf:3:", "REVOKE"}},
		{"key without zone flag", "example. DNSKEY 1 3 13 " + testKeyB64 + "\n",
			ErrNotZoneKey, []string{"anchors.conf:1:", "Zone Key"}},
		{"protocol not 3", "example. DNSKEY 257 2 13 " + testKeyB64 + "\n",
			ErrBadAnchor, []string{"anchors.conf:1:", "protocol"}},
		{"short SHA-256 digest", ". DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC\n",
			ErrBadAnchor, []string{"anchors.conf:1:", "31 octets"}},
		{"class CH", "example. CH DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n",
			ErrBadAnchor, []string{"anchors.conf:1:", "class CH"}},
		{"empty", "", ErrEmpty, []string{"anchors.conf"}},
		{"only comments", "; nothing here\n   \n$ORIGIN example.\n", ErrEmpty, []string{"anchors.conf"}},
		{"syntax error", "\n. DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n. DS twenty 8 2 00\n",
			nil, []string{"anchors.conf", "line: 3"}},
		{"unclosed parenthesis", ". DNSKEY 257 3 13 ( " + testKeyB64 + "\n", nil, []string{"anchors.conf"}},
		{"include", "$INCLUDE /etc/passwd\n", ErrBadAnchor, []string{"anchors.conf:1:", "$INCLUDE"}},
		{"generate", "$GENERATE 1-3 x$ DS 1 13 2 00\n", ErrBadAnchor, []string{"anchors.conf:1:", "$GENERATE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(strings.NewReader(c.in), "anchors.conf")
			if err == nil {
				t.Fatalf("Parse succeeded: %v", s)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %q", err, c.is)
			}
			for _, want := range c.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func TestParseDuplicates(t *testing.T) {
	s := mustParse(t, `
. 100 DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. 200 DS 20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d
`)
	if s.Len() != 1 {
		t.Errorf("Len() = %d, want the duplicate dropped", s.Len())
	}
}

// TestParseDollarOwner: a first word starting with "$" is a directive only
// if it is one of the four; otherwise it is an owner name, as for the zone
// parser. (Found by FuzzParse: the String form of such a record did not
// parse back.)
func TestParseDollarOwner(t *testing.T) {
	s := mustParse(t, "$ORIGIN $x.\n@ DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n$y.$x. DS 2 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n")
	if got := s.Zones(); !slices.Equal(got, []string{"$x.", "$y.$x."}) {
		t.Errorf("Zones() = %q", got)
	}
	if again := mustParse(t, s.String()); again.String() != s.String() {
		t.Errorf("round trip:\n%s\n%s", s, again)
	}
}

func TestRecordLines(t *testing.T) {
	in := "; c\n" + // 1
		"a. DS 1 2 3 ( ; comment with ( and \"\n" + // 2
		"  00 )\n" + // 3
		"$TTL 5\n" + // 4
		"\n" + // 5
		"  b. TXT \"x;y\\\" (\"\n" + // 6: quoted ; and ( and an escaped quote
		"c\\\n" + // 7: escaped newline, so the entry goes on
		"d. A 1.2.3.4\n" + // 8
		"e. A 1.2.3.4" // 9, no final newline
	got, err := recordLines(in, "f")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 6, 7, 9}; !slices.Equal(got, want) {
		t.Errorf("recordLines = %v, want %v", got, want)
	}
}

func TestSetAdd(t *testing.T) {
	var s Set // the zero value works
	rr, err := dns.NewRR(`\069xample. DNSKEY 257 3 13 ` + testKeyB64)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(rr); err != nil {
		t.Fatal(err)
	}
	if got := s.Zones(); !slices.Equal(got, []string{"example."}) {
		t.Errorf("escaped owner made zone %q, want example.", got)
	}
	if err := s.Add(nil); !errors.Is(err, ErrBadAnchor) {
		t.Errorf("Add(nil) = %v", err)
	}
	if err := s.Add(&dns.DS{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeDS, Class: dns.ClassINET}, DigestType: 2, Digest: "zz"}); !errors.Is(err, ErrBadAnchor) {
		t.Errorf("Add(DS with non-hex digest) = %v", err)
	}
	if err := s.Add(&dns.DNSKEY{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET}, Flags: 257, Protocol: 3, Algorithm: 13, PublicKey: "!!"}); !errors.Is(err, ErrBadAnchor) {
		t.Errorf("Add(DNSKEY with bad base64) = %v", err)
	}
	if s.Len() != 1 {
		t.Errorf("Len() = %d after refused adds", s.Len())
	}
}

func TestStringRoundTrip(t *testing.T) {
	s := mustParse(t, ianaRootAnchors+"example. DNSKEY 257 3 13 "+testKeyB64+"\n")
	again := mustParse(t, s.String())
	if s.String() != again.String() || again.Len() != 3 {
		t.Errorf("round trip changed the set:\n%s\n%s", s, again)
	}
}

func mustParse(t *testing.T, text string) *Set {
	t.Helper()
	s, err := Parse(strings.NewReader(text), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
