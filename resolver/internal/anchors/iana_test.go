package anchors

import "testing"

// TestIANARoot checks the embedded root anchors against a second copy of
// IANA's values, typed independently of iana.go from
// https://data.iana.org/root-anchors/root-anchors.xml.
func TestIANARoot(t *testing.T) {
	want := map[uint16]string{
		20326: "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D", // KSK-2017
		38696: "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16", // KSK-2024
	}
	s := IANARoot()
	if got := s.Zones(); len(got) != 1 || got[0] != "." {
		t.Fatalf("Zones() = %q, want only the root", got)
	}
	ds, keys := s.For(".")
	if len(ds) != 2 || len(keys) != 0 || s.Len() != 2 {
		t.Fatalf("For(.) = %d DS, %d DNSKEY; Len() = %d; want 2 DS", len(ds), len(keys), s.Len())
	}
	for _, d := range ds {
		digest, ok := want[d.KeyTag]
		if !ok {
			t.Errorf("unexpected key tag %d", d.KeyTag)
			continue
		}
		delete(want, d.KeyTag)
		if d.Algorithm != 8 || d.DigestType != 2 || d.Digest != digest || d.Hdr.Name != "." {
			t.Errorf("DS %v, want . DS %d 8 2 %s", d, d.KeyTag, digest)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing key tags %v", want)
	}
	// Each call is a Set of its own.
	if IANARoot() == s {
		t.Error("IANARoot returned the same Set twice")
	}
}
