package anchors

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary text. It must never panic, and whatever
// it accepts must come back the same through the set's String form: what
// Parse makes of a file is what rootwalk would log and save.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		ianaRootAnchors,
		"example. DNSKEY 257 3 13 ( " + testKeyB64 + " ) ; KSK\n",
		"$ORIGIN Corp.Example.\n$TTL 60\n@ DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\nlab DNSKEY 256 3 13 " + testKeyB64 + "\n",
		`\065\.b.example. 5 IN DS 7 8 1 0123456789ABCDEF0123456789ABCDEF01234567`,
		"example. 300 IN A 192.0.2.1\n",
		"example. DNSKEY 385 3 13 " + testKeyB64 + "\n",
		"$GENERATE 1-2 x$ DS 1 1 1 00\n",
		"\"quoted\" DS 1 1 4 00 ; (\n",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(strings.NewReader(text), "fuzz")
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a Set and an error %v", err)
			}
			if !strings.Contains(err.Error(), "fuzz") && !errors.Is(err, ErrEmpty) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if s.Len() == 0 {
			t.Fatal("Parse accepted input with no anchors")
		}
		out := s.String()
		again, err := Parse(strings.NewReader(out), "round trip")
		if err != nil {
			t.Fatalf("String form of an accepted set does not parse: %v\n%s", err, out)
		}
		if again.String() != out || again.Len() != s.Len() {
			t.Fatalf("round trip changed the set:\n%s\n---\n%s", out, again.String())
		}
		for _, z := range s.Zones() {
			if got, ok := s.Closest(z); !ok || got != z {
				t.Fatalf("Closest(%q) = %q, %v", z, got, ok)
			}
		}
	})
}
