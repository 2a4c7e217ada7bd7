package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

func TestSigCache(t *testing.T) {
	k := keys()
	zoneKeys := []*dns.DNSKEY{k.zsk.key}
	cache := NewSigCache(100)
	budget := func() *Budget { return NewBudget(MaxSignatureValidations, MaxNSEC3Hashes).WithCache(cache) }

	// A wildcard RRset, and two names it was expanded to.
	wild := rrs(`*.w.example. 3600 IN TXT "wild"`)
	sig := sign(wild, k.zsk)
	expand := func(name string) ([]dns.RR, []*dns.RRSIG) {
		set := rrs(name + ` 3600 IN TXT "wild"`)
		s := *sig
		s.Hdr.Name = name
		s.Hdr.Ttl = 1200 // counted down in a cache: the signed data is the same
		return set, []*dns.RRSIG{&s}
	}

	b := budget()
	set, sigs := expand("a.w.example.")
	if v, err := VerifyRRset(set, sigs, zoneKeys, "example.", testNow, b); err != nil || v.Wildcard != "*.w.example." {
		t.Fatalf("first expansion: %v, %v", v, err)
	}
	if b.SignaturesUsed() != 1 || cache.Len() != 1 {
		t.Fatalf("first expansion: %d verifications, %d cached; want 1 and 1", b.SignaturesUsed(), cache.Len())
	}
	b = budget()
	set, sigs = expand("b.w.example.")
	if v, err := VerifyRRset(set, sigs, zoneKeys, "example.", testNow, b); err != nil || v.Wildcard != "*.w.example." {
		t.Fatalf("second expansion: %v, %v", v, err)
	}
	if b.SignaturesUsed() != 0 {
		t.Errorf("second expansion of the same wildcard: %d verifications, want 0 (a cache hit)", b.SignaturesUsed())
	}

	// Other data under the same signature is verified, and fails.
	b = budget()
	forged := rrs(`c.w.example. 3600 IN TXT "forged"`)
	s := *sig
	s.Hdr.Name = "c.w.example."
	_, err := VerifyRRset(forged, []*dns.RRSIG{&s}, zoneKeys, "example.", testNow, b)
	wantReason(t, err, false, ReasonBogus)
	if b.SignaturesUsed() != 1 {
		t.Errorf("forged data: %d verifications, want 1 (no hit)", b.SignaturesUsed())
	}

	// A cached signature is still checked against its validity window.
	b = budget()
	set, sigs = expand("d.w.example.")
	_, err = VerifyRRset(set, sigs, zoneKeys, "example.", testNow.AddDate(1, 0, 0), b)
	wantReason(t, err, false, ReasonSignatureExpired)

	// And against the keys trusted now: another key is not the one that verified it.
	b = budget()
	set, sigs = expand("e.w.example.")
	_, err = VerifyRRset(set, sigs, []*dns.DNSKEY{k.ed.key}, "example.", testNow, b)
	wantReason(t, err, false, ReasonDNSKEYMissing)

	// Failures are not kept.
	if cache.Len() != 1 {
		t.Errorf("%d signatures cached, want 1", cache.Len())
	}
}

func TestSigCacheBounded(t *testing.T) {
	c := NewSigCache(10)
	for i := range 25 {
		c.add([32]byte{byte(i)})
	}
	if c.Len() > 10 {
		t.Errorf("%d entries, want at most 10", c.Len())
	}
}
