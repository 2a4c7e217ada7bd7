package sign

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The names of testZone's NSEC3 chain: authoritative names, cuts and
// empty non-terminals. With opt-out the unsigned cuts and the empty
// non-terminal above one of them are left out.
var (
	chainNames  = []string{"example.", "ns1.example.", "www.example.", "*.wild.example.", "a.b.c.example.", "multi.example.", "secure.example.", "c.example.", "b.c.example.", "wild.example."}
	nsec3OptOut = []string{"insecure.example.", "deleg.ent.example.", "ent.example."}
)

func TestNSEC3Chain(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	ksk, zsk := testKeys(t, dns.ED25519)
	for _, optOut := range []bool{false, true} {
		t.Run(fmt.Sprint("optout=", optOut), func(t *testing.T) {
			opts := options(ksk, zsk, NSEC3)
			opts.Iterations, opts.Salt, opts.OptOut = 5, "AaBbCcDd", optOut
			out, err := Sign("example.", records, opts)
			if err != nil {
				t.Fatal(err)
			}
			sigs := verifyAll(t, "example.", records, out, ksk, zsk)
			nsec3s := ofType[*dns.NSEC3](out)
			checkNSEC3Params(t, out, sigs, opts)
			checkNSEC3Cycle(t, nsec3s)
			exist, excluded := chainNames, nsec3OptOut
			if !optOut {
				exist, excluded = append(slices.Clone(chainNames), nsec3OptOut...), nil
			}
			if len(nsec3s) != len(exist) {
				t.Errorf("%d NSEC3 records, want %d", len(nsec3s), len(exist))
			}
			checkNSEC3Proofs(t, nsec3s, exist, excluded)
			checkNSEC3Bitmaps(t, nsec3s)
		})
	}
}

// checkNSEC3Params checks that every NSEC3 and the NSEC3PARAM carry the
// options' parameters, and that the NSEC3PARAM is signed.
func checkNSEC3Params(t *testing.T, out []dns.RR, sigs map[setKey][]*dns.RRSIG, opts Options) {
	t.Helper()
	flags := uint8(0)
	if opts.OptOut {
		flags = 1
	}
	for _, n := range ofType[*dns.NSEC3](out) {
		if n.Hash != dns.SHA1 || n.Flags != flags || n.Iterations != opts.Iterations || !strings.EqualFold(n.Salt, opts.Salt) || n.Hdr.Ttl != 300 {
			t.Errorf("%s, want hash 1, flags %d, iterations %d, salt %s, TTL 300", n, flags, opts.Iterations, opts.Salt)
		}
		if n.Hdr.Name != strings.ToLower(n.Hdr.Name) || !dns.IsSubDomain("example.", n.Hdr.Name) || dns.CountLabel(n.Hdr.Name) != 2 {
			t.Errorf("NSEC3 owner %s, want a lower-case hash under example.", n.Hdr.Name)
		}
	}
	params := ofType[*dns.NSEC3PARAM](out)
	if len(params) != 1 {
		t.Fatalf("%d NSEC3PARAM records, want 1", len(params))
	}
	p := params[0]
	if p.Hdr.Name != "example." || p.Hash != dns.SHA1 || p.Flags != 0 || p.Iterations != opts.Iterations || !strings.EqualFold(p.Salt, opts.Salt) {
		t.Errorf("%s, want example. NSEC3PARAM 1 0 %d %s", p, opts.Iterations, opts.Salt)
	}
	if len(sigs[key("example.", dns.TypeNSEC3PARAM)]) != 1 {
		t.Error("NSEC3PARAM not signed")
	}
}

// checkNSEC3Cycle checks that the records come in hash order and their
// next hashes link them in one cycle.
func checkNSEC3Cycle(t *testing.T, nsec3s []*dns.NSEC3) {
	t.Helper()
	hashes := make([]string, len(nsec3s))
	for i, n := range nsec3s {
		hashes[i] = strings.ToUpper(strings.SplitN(n.Hdr.Name, ".", 2)[0])
	}
	if !slices.IsSorted(hashes) || len(slices.Compact(slices.Clone(hashes))) != len(hashes) {
		t.Errorf("NSEC3 hashes not strictly in order: %q", hashes)
	}
	for i, n := range nsec3s {
		if want := hashes[(i+1)%len(hashes)]; n.NextDomain != want {
			t.Errorf("%s: next %s, want %s", n.Hdr.Name, n.NextDomain, want)
		}
	}
}

// checkNSEC3Proofs checks that each name of the chain has one NSEC3 that
// matches it, and each other name in the zone, the excluded (opted-out)
// ones included, is covered by exactly one NSEC3, which has the Opt-Out
// flag when it covers an excluded name.
func checkNSEC3Proofs(t *testing.T, nsec3s []*dns.NSEC3, exist, excluded []string) {
	t.Helper()
	missing := append([]string{
		"nope.example.", "x.wild.example.", "zzz.www.example.", "a.example.",
		"ns.secure.example.", "ns.insecure.example.", "x.deleg.ent.example.",
	}, excluded...)
	for _, name := range append(slices.Clone(exist), missing...) {
		var matched, covered []*dns.NSEC3
		for _, n := range nsec3s {
			if n.Match(name) {
				matched = append(matched, n)
			}
			// miekg/dns's Cover also holds for the owner's own hash.
			if n.Cover(name) && !n.Match(name) {
				covered = append(covered, n)
			}
		}
		want := 1
		if slices.Contains(exist, name) {
			want = 0
		}
		if len(matched) != 1-want || len(covered) != want {
			t.Errorf("%s: matched by %d NSEC3s, covered by %d; want %d and %d", name, len(matched), len(covered), 1-want, want)
		}
		if slices.Contains(excluded, name) && len(covered) == 1 && covered[0].Flags&1 == 0 {
			t.Errorf("%s: opted out, but covered by %s without the Opt-Out flag", name, covered[0])
		}
	}
}

func checkNSEC3Bitmaps(t *testing.T, nsec3s []*dns.NSEC3) {
	t.Helper()
	want := map[string][]uint16{
		"example.":           {dns.TypeA, dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeDNSKEY, dns.TypeNSEC3PARAM},
		"www.example.":       {dns.TypeA, dns.TypeAAAA, dns.TypeRRSIG},
		"*.wild.example.":    {dns.TypeTXT, dns.TypeRRSIG},
		"secure.example.":    {dns.TypeNS, dns.TypeDS, dns.TypeRRSIG}, // not the A at the cut
		"insecure.example.":  {dns.TypeNS},
		"deleg.ent.example.": {dns.TypeNS},
		"c.example.":         nil, // empty non-terminals
		"b.c.example.":       nil,
		"wild.example.":      nil,
		"ent.example.":       nil,
	}
	for name, w := range want {
		slices.Sort(w)
		for _, n := range nsec3s {
			if n.Match(name) && !slices.Equal(n.TypeBitMap, w) {
				t.Errorf("%s: types %s, want %s", name, typeNames(n.TypeBitMap), typeNames(w))
			}
		}
	}
}

// RFC 9276 section 3.1: no salt and no extra iterations, the salt written
// as "" or "-".
func TestNSEC3NoSalt(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	ksk, zsk := testKeys(t, dns.ED25519)
	for _, salt := range []string{"", "-"} {
		opts := options(ksk, zsk, NSEC3)
		opts.Salt = salt
		out, err := Sign("example.", records, opts)
		if err != nil {
			t.Fatal(err)
		}
		verifyAll(t, "example.", records, out, ksk, zsk)
		roundTrip(t, out)
		for _, n := range ofType[*dns.NSEC3](out) {
			if n.Salt != "" || n.SaltLength != 0 || n.Iterations != 0 || !strings.Contains(n.String(), "NSEC3\t1 0 0 - ") {
				t.Errorf("salt %q: %s, want no salt and 0 iterations", salt, n)
			}
		}
		if p := ofType[*dns.NSEC3PARAM](out); len(p) != 1 || p[0].String() != "example.\t300\tIN\tNSEC3PARAM\t1 0 0 -" {
			t.Errorf("salt %q: NSEC3PARAM %v", salt, p)
		}
	}
}
