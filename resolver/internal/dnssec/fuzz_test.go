package dnssec

import (
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// FuzzProofs feeds two NSEC records and two NSEC3 records of example.,
// with owner names, next names and bitmaps from the fuzzer, to every
// proof. The proofs must not panic, must fail only with an *Error, and
// must never accept what the records visibly contradict: a name with a
// record at it does not exist (NXDOMAIN, wildcard answer), a type or CNAME
// in the bitmap at the name is absent (NODATA), a DS at the name is
// absent (insecure delegation); nor may a name both not exist and have no
// data.
func FuzzProofs(f *testing.F) {
	T := func(names ...string) []byte {
		var out []byte
		for _, t := range types(names...) {
			out = append(out, byte(t))
		}
		return out
	}
	// Names are relative to example.; "" is the apex.
	f.Add("b", "a", "c", "", "a", T("A", "TXT"), T("NS", "SOA"), dns.TypeA, byte(0))
	f.Add("a", "a", "c", "", "a", T("A", "TXT"), T("NS", "SOA"), dns.TypeMX, byte(0))
	f.Add("y", "*.w", "x.y", "sub", "*.w", T("TXT"), T("NS", "DS"), dns.TypeA, byte(0))
	f.Add("q.w", "*.w", "x.y", "w", "*.w", T("TXT"), []byte{}, dns.TypeMX, byte(0))
	f.Add("ins", "ins", "sub", "", "a", T("NS"), T("NS", "SOA"), dns.TypeDS, byte(1))
	f.Add("a.sub", "sub", "z", "", "a", T("NS"), T("NS", "SOA"), dns.TypeA, byte(1))
	f.Add("sub", "sub", "sub", "", "sub", T("NS", "SOA"), T("NS", "DS"), dns.TypeDS, byte(0))
	f.Add("q.d", "d", "e", "", "d", T("DNAME"), T("NS", "SOA"), dns.TypeA, byte(0))
	// Found by the fuzzer: an NSEC at the name whose next name (\.example.,
	// one label at the root) is outside the zone was ignored altogether,
	// so the other NSEC proved the name did not exist.
	f.Add("0", " ", "1", "0", `\`, T("A"), T("A"), dns.TypeDS, byte(0))

	f.Fuzz(func(t *testing.T, q, o1, n1, o2, n2 string, bm1, bm2 []byte, qtype uint16, flags byte) {
		var names [5]string
		for i, s := range []string{q, o1, n1, o2, n2} {
			n := "example."
			if s != "" {
				n = s + ".example."
			}
			if _, ok := dns.IsDomainName(n); !ok || dns.HashName(n, dns.SHA1, 0, "") == "" {
				t.Skip()
			}
			names[i] = n
		}
		qname := names[0]
		bitmaps := [2][]uint16{bitmap(bm1), bitmap(bm2)}
		nsec := []*dns.NSEC{
			mkNSEC(names[1], names[2], bitmaps[0]...),
			mkNSEC(names[3], names[4], bitmaps[1]...),
		}
		hash := func(n string) string { return dns.HashName(n, dns.SHA1, 0, "") }
		nsec3 := make([]*dns.NSEC3, 2)
		for i := range nsec3 {
			nsec3[i] = &dns.NSEC3{
				Hdr:  dns.RR_Header{Name: hash(names[1+2*i]) + ".example.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
				Hash: dns.SHA1, Flags: (flags >> i) & 1, HashLength: 20,
				NextDomain: hash(names[2+2*i]),
				TypeBitMap: bitmaps[i],
			}
		}
		wildcard := ""
		if dns.CountLabel(qname) > 1 {
			wildcard = "*." + qname[dns.Split(qname)[1]:]
		}

		// What the records show about qname: with NSEC, a record at it
		// (the test folds ASCII case only and misses escapes, \065 for
		// A, which only makes it check less); with NSEC3, a record whose
		// owner is its hash.
		var nsecAt, nsec3At [][]uint16
		for i := range 2 {
			if asciiEqualFold(names[1+2*i], qname) {
				nsecAt = append(nsecAt, bitmaps[i])
			}
			if hash(names[1+2*i]) == hash(qname) {
				nsec3At = append(nsec3At, bitmaps[i])
			}
		}

		check := func(kind string, at [][]uint16, nsec []*dns.NSEC, nsec3 []*dns.NSEC3) {
			budget := func() *Budget { return NewBudget(MaxSignatureValidations, MaxNSEC3Hashes) }
			nxOut, nxErr := ProveNameError(qname, "example.", nsec, nsec3, budget())
			noOut, noErr := ProveNoData(qname, qtype, "example.", nsec, nsec3, budget())
			delOut, delErr := ProveInsecureDelegation(qname, "example.", nsec, nsec3, budget())
			var wcOut bool
			var wcErr error
			if wildcard != "" {
				wcOut, wcErr = ProveWildcardAnswer(qname, wildcard, "example.", nsec, nsec3, budget())
			}
			for what, out := range map[string]bool{"name error": nxOut, "no data": noOut, "insecure delegation": delOut, "wildcard": wcOut} {
				if out && nsec3 == nil {
					t.Errorf("%s %s: opt-out without NSEC3", kind, what)
				}
			}
			if (nxOut && nxErr != nil) || (noOut && noErr != nil) || (delOut && delErr != nil) || (wcOut && wcErr != nil) {
				t.Errorf("%s: opt-out reported with an error", kind)
			}
			for what, err := range map[string]error{"name error": nxErr, "no data": noErr, "insecure delegation": delErr, "wildcard": wcErr} {
				if _, ok := ReasonOf(err); err != nil && !ok {
					t.Fatalf("%s %s: error %v is no *Error", kind, what, err)
				}
			}
			if len(at) > 0 {
				if nxErr == nil {
					t.Errorf("%s: NXDOMAIN for %s proven, but a record is at it", kind, qname)
				}
				if wildcard != "" && wcErr == nil {
					t.Errorf("%s: wildcard answer for %s proven, but a record is at it", kind, qname)
				}
			}
			for _, bm := range at {
				if noErr == nil && (slices.Contains(bm, qtype) || slices.Contains(bm, dns.TypeCNAME)) {
					t.Errorf("%s: NODATA for %s/%d proven, but its bitmap %v has it or CNAME", kind, qname, qtype, bm)
				}
				if delErr == nil && slices.Contains(bm, dns.TypeDS) {
					t.Errorf("%s: insecure delegation %s proven, but its bitmap %v has DS", kind, qname, bm)
				}
			}
			// An NXDOMAIN and a NODATA exclude each other, except that
			// an NSEC3 opt-out span proves both an NXDOMAIN and a DS
			// NODATA (RFC 5155 sections 8.4 and 8.6).
			if nxErr == nil && noErr == nil && (nsec3 == nil || qtype != dns.TypeDS) {
				t.Errorf("%s: both NXDOMAIN and NODATA proven for %s/%d", kind, qname, qtype)
			}
			if nxErr == nil && delErr == nil && nsec3 == nil {
				t.Errorf("%s: both NXDOMAIN and a delegation proven for %s", kind, qname)
			}
		}
		check("NSEC", nsecAt, nsec, nil)
		check("NSEC3", nsec3At, nil, nsec3)
	})
}

// asciiEqualFold compares names as DNS does: octet by octet, with only
// ASCII letters folded (strings.EqualFold folds Unicode and takes every
// invalid UTF-8 byte for the same rune).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// bitmap turns fuzzer bytes into a type bitmap: each byte a type, which
// covers every type the proofs look at (NS 2, SOA 6, CNAME 5, DNAME 39,
// DS 43).
func bitmap(b []byte) []uint16 {
	out := make([]uint16, 0, len(b))
	for _, x := range b {
		if t := uint16(x); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
