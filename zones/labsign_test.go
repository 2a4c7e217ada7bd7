package zones

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

// signedKeys returns the signed zone's DNSKEYs, KSK and ZSK.
func signedKeys(t *testing.T, z *Zone) (ksk, zsk *dns.DNSKEY) {
	t.Helper()
	for _, rr := range z.RRset(z.Origin(), dns.TypeDNSKEY) {
		k := rr.(*dns.DNSKEY)
		if k.Flags&dns.SEP != 0 {
			ksk = k
		} else {
			zsk = k
		}
	}
	if ksk == nil || zsk == nil {
		t.Fatalf("%s: DNSKEYs %v, want a KSK and a ZSK", z.Origin(), z.RRset(z.Origin(), dns.TypeDNSKEY))
	}
	return ksk, zsk
}

// verifyAll checks every RRSIG in rrs over its RRset with key, at now, and
// returns how many verified.
func verifyAll(rrs []dns.RR, key *dns.DNSKEY, now time.Time) (ok, bad int) {
	sets, sigs := rrsets(rrs)
	for k, list := range sigs {
		for _, sig := range list {
			if sig.Verify(key, sets[k]) == nil && sig.ValidityPeriod(now) {
				ok++
			} else {
				bad++
			}
		}
	}
	return ok, bad
}

func TestLabSigned(t *testing.T) {
	now := time.Now()
	byOrigin := make(map[string]*Zone)
	for _, z := range labZoneSet(t) {
		byOrigin[z.Origin()] = z
	}
	for _, z := range labZoneSet(t) {
		how, signed := labSigned[z.Origin()]
		if z.Signed() != signed {
			t.Errorf("%s: Signed() = %v, want %v", z.Origin(), z.Signed(), signed)
			continue
		}
		parent := parentZoneOf(byOrigin, z.Origin())
		var ds []*dns.DS
		if parent != nil {
			for _, rr := range parent.RRset(z.Origin(), dns.TypeDS) {
				ds = append(ds, rr.(*dns.DS))
			}
		}
		if !signed {
			if len(ds) > 0 {
				t.Errorf("%s: unsigned, but its parent has DS %v", z.Origin(), ds)
			}
			continue
		}
		ksk, zsk := signedKeys(t, z)
		if parent != nil {
			// The DS vouches for the KSK, except where it must not.
			matches := len(ds) == 1 && strings.EqualFold(ds[0].Digest, ksk.ToDS(dns.SHA256).Digest)
			switch how.broken {
			case breakDSMismatch:
				if matches || len(ds) != 1 {
					t.Errorf("%s: DS %v should match no key", z.Origin(), ds)
				}
			case breakAlgorithm:
				if len(ds) != 1 || ds[0].Algorithm != dns.RSAMD5 || ksk.Algorithm != dns.RSAMD5 || !matches {
					t.Errorf("%s: DS %v and KSK algorithm %d, want RSA/MD5 (1) for both, matching", z.Origin(), ds, ksk.Algorithm)
				}
			default:
				if !matches {
					t.Errorf("%s: DS %v does not match its KSK %v", z.Origin(), ds, ksk)
				}
			}
		}
		if how.broken == breakAlgorithm {
			continue // its signatures are noise on purpose
		}
		keys := z.LookupDNSSEC(z.Origin(), dns.TypeDNSKEY)
		soa := z.LookupDNSSEC(z.Origin(), dns.TypeSOA)
		okK, badK := verifyAll(keys.Answer, ksk, now)
		okS, badS := verifyAll(soa.Answer, zsk, now)
		if how.broken == breakExpired {
			if okK+okS != 0 || badK == 0 || badS == 0 {
				t.Errorf("%s: %d signatures valid now, want none", z.Origin(), okK+okS)
			}
			continue
		}
		if okK != 1 || badK != 0 || okS != 1 || badS != 0 {
			t.Errorf("%s: DNSKEY RRset %d good %d bad, SOA %d good %d bad", z.Origin(), okK, badK, okS, badS)
		}
	}

	// The anchor is the root's KSK.
	anchor, err := LabAnchor()
	if err != nil {
		t.Fatal(err)
	}
	rr, err := dns.NewRR(strings.TrimSpace(anchor))
	if err != nil {
		t.Fatalf("anchor %q: %v", anchor, err)
	}
	rootKSK, _ := signedKeys(t, byOrigin["."])
	if ds, ok := rr.(*dns.DS); !ok || ds.Hdr.Name != "." || !strings.EqualFold(ds.Digest, rootKSK.ToDS(ds.DigestType).Digest) {
		t.Errorf("anchor %v does not match the root's KSK", rr)
	}
}

func TestLabBrokenZones(t *testing.T) {
	now := time.Now()
	zone := func(origin string) *Zone { return labZone(t, origin) }

	z := zone("rrsig-missing.org.")
	_, zsk := signedKeys(t, z)
	if r := z.LookupDNSSEC("www.rrsig-missing.org.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("rrsig-missing: www A answer %v, want the A record alone", r.Answer)
	}
	if ok, bad := verifyAll(z.LookupDNSSEC("www.rrsig-missing.org.", dns.TypeTXT).Answer, zsk, now); ok != 1 || bad != 0 {
		t.Errorf("rrsig-missing: www TXT %d good %d bad signatures, want 1 good", ok, bad)
	}

	z = zone("nsec-forged.org.")
	_, zsk = signedKeys(t, z)
	r := z.LookupDNSSEC("gone.nsec-forged.org.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError {
		t.Fatalf("nsec-forged: gone is %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	sets, sigs := rrsets(r.Authority)
	forged := false
	for k, set := range sets {
		n, ok := set[0].(*dns.NSEC)
		if !ok || !canonical.Covers(n.Hdr.Name, n.NextDomain, "gone.nsec-forged.org.") {
			continue
		}
		for _, sig := range sigs[k] {
			forged = forged || sig.Verify(zsk, set) != nil
		}
	}
	if !forged {
		t.Errorf("nsec-forged: no NSEC covering gone with a failing signature in %v", r.Authority)
	}

	z = zone("org.")
	r = z.LookupDNSSEC("www.insecure.org.", dns.TypeA)
	sets, _ = rrsets(r.Authority)
	nsec := sets["insecure.org./NSEC"]
	if len(nsec) != 1 || len(sets["insecure.org./DS"]) != 0 {
		t.Fatalf("referral to insecure.org: authority %v, want the NSEC at the cut and no DS", r.Authority)
	}
	for _, typ := range nsec[0].(*dns.NSEC).TypeBitMap {
		if typ == dns.TypeDS {
			t.Errorf("the NSEC at insecure.org. lists DS")
		}
	}
}

// parentZoneOf returns the lab zone that delegates origin, nil for the root.
func parentZoneOf(byOrigin map[string]*Zone, origin string) *Zone {
	for name := origin; name != "."; {
		name = parentOf(name)
		if z := byOrigin[name]; z != nil {
			return z
		}
	}
	return nil
}
