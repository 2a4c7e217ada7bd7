package sign

import (
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

func TestNSECChain(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	ksk, zsk := testKeys(t, dns.ED25519)
	out, err := Sign("example.", records, options(ksk, zsk, NSEC))
	if err != nil {
		t.Fatal(err)
	}
	nsecs := ofType[*dns.NSEC](out)
	// The authoritative names and the cuts; not the empty non-terminals
	// (c, b.c, wild, ent) nor the names below cuts.
	want := []string{
		"example.", "ns1.example.", "www.example.", "*.wild.example.", "a.b.c.example.",
		"multi.example.", "secure.example.", "insecure.example.", "deleg.ent.example.",
	}
	canonical.Sort(want)
	var owners []string
	for i, n := range nsecs {
		owners = append(owners, n.Hdr.Name)
		if next := nsecs[(i+1)%len(nsecs)].Hdr.Name; n.NextDomain != next {
			t.Errorf("%s: next %s, want %s", n.Hdr.Name, n.NextDomain, next)
		}
		if n.Hdr.Ttl != 300 {
			t.Errorf("%s: TTL %d, want 300", n.Hdr.Name, n.Hdr.Ttl)
		}
	}
	if !slices.Equal(owners, want) {
		t.Fatalf("NSEC owners %q, want %q in canonical order", owners, want)
	}
	if last := nsecs[len(nsecs)-1]; last.NextDomain != "example." {
		t.Errorf("last NSEC %s points to %s, not the apex", last.Hdr.Name, last.NextDomain)
	}
	checkNSECProofs(t, nsecs, want)
	checkNSECBitmaps(t, nsecs)
}

// checkNSECProofs checks that every name of the zone has its NSEC and
// every other name in the zone is covered by exactly one NSEC.
func checkNSECProofs(t *testing.T, nsecs []*dns.NSEC, exist []string) {
	t.Helper()
	missing := []string{
		"c.example.", "b.c.example.", "wild.example.", "ent.example.", // empty non-terminals
		"nope.example.", "x.wild.example.", "zzz.www.example.", "a.example.", "zzzz.example.",
		"ns.secure.example.", "ns.insecure.example.", "x.deleg.ent.example.", // below cuts
	}
	for _, name := range append(slices.Clone(exist), missing...) {
		var matched, covered int
		for _, n := range nsecs {
			if n.Hdr.Name == name {
				matched++
			}
			if canonical.Covers(n.Hdr.Name, n.NextDomain, name) {
				covered++
			}
		}
		want := 1
		if slices.Contains(exist, name) {
			want = 0
		}
		if matched != 1-want || covered != want {
			t.Errorf("%s: matched by %d NSECs, covered by %d; want %d and %d", name, matched, covered, 1-want, want)
		}
	}
	for _, n := range nsecs {
		if canonical.Covers(n.Hdr.Name, n.NextDomain, "example.org.") {
			t.Errorf("%s covers a name outside the zone", n.Hdr.Name)
		}
	}
}

func checkNSECBitmaps(t *testing.T, nsecs []*dns.NSEC) {
	t.Helper()
	want := map[string][]uint16{
		"example.":           {dns.TypeA, dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY},
		"www.example.":       {dns.TypeA, dns.TypeAAAA, dns.TypeRRSIG, dns.TypeNSEC},
		"*.wild.example.":    {dns.TypeTXT, dns.TypeRRSIG, dns.TypeNSEC},
		"secure.example.":    {dns.TypeNS, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC}, // not the A at the cut
		"insecure.example.":  {dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC},
		"deleg.ent.example.": {dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC},
	}
	for _, n := range nsecs {
		if w, ok := want[n.Hdr.Name]; ok {
			slices.Sort(w)
			if !slices.Equal(n.TypeBitMap, w) {
				t.Errorf("%s: types %s, want %s", n.Hdr.Name, typeNames(n.TypeBitMap), typeNames(w))
			}
		}
	}
}

func typeNames(types []uint16) []string {
	var out []string
	for _, t := range types {
		out = append(out, dns.Type(t).String())
	}
	return out
}
