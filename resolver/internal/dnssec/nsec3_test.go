package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// The proofs with NSEC3 records, over the chains of example.
// (zone_test.go): fullChain has every name, optOutChain is opt-out and
// lacks the unsigned delegation ins.example. Proofs are picked from them
// as a server picks them.

func full(names ...string) []*dns.NSEC3   { return pick(fullChain, names...) }
func optOut(names ...string) []*dns.NSEC3 { return pick(optOutChain, names...) }

func TestNSEC3NameError(t *testing.T) {
	runNameError(t, []proofCase{
		{name: "closest encloser, next closer and wildcard", qname: "b.example.", nsec3: full("example.", "b.example.", "*.example."), ok: true},
		{name: "deep name", qname: "a.b.c.d.e.f.example.", nsec3: full("example.", "f.example.", "*.example."), ok: true},
		{name: "closest encloser below the apex", qname: "q.x.y.example.", nsec3: full("x.y.example.", "q.x.y.example.", "*.x.y.example."), ok: true},
		{name: "opt-out next closer", qname: "nx.example.", nsec3: optOut("example.", "nx.example.", "*.example."), ok: true, optOut: true},
		{name: "whole chain", qname: "b.example.", nsec3: fullChain, ok: true},
		{name: "wildcard proof missing", qname: "b.example.", nsec3: full("example.", "b.example."), reason: ReasonNSECMissing},
		{name: "closest encloser missing", qname: "b.example.", nsec3: full("b.example.", "*.example."), reason: ReasonNSECMissing},
		{name: "next closer not covered", qname: "b.example.", nsec3: full("example.", "*.example."), reason: ReasonNSECMissing},
		{name: "the name exists", qname: "a.example.", nsec3: full("a.example.", "example.", "*.example."), reason: ReasonBogus},
		{name: "the name exists, its NSEC3 has a malformed next hash", qname: "a.example.",
			nsec3:  append(mapNSEC3(full("a.example."), func(r *dns.NSEC3) { r.NextDomain = "not-a-hash" }), tinySpan(), full("example.", "*.example.")[0]),
			reason: ReasonBogus},
		{name: "an empty non-terminal exists", qname: "y.example.", nsec3: full("y.example."), reason: ReasonBogus},
		{name: "the wildcard exists", qname: "q.w.example.", nsec3: full("w.example.", "q.w.example.", "*.w.example."), reason: ReasonBogus},
		{name: "below a delegation", qname: "a.sub.example.", nsec3: full("sub.example.", "a.sub.example.", "*.sub.example."), reason: ReasonBogus},
		{name: "unknown hash algorithm ignored", qname: "b.example.",
			nsec3: withHash(full("example.", "b.example.", "*.example."), 2), reason: ReasonNSECMissing},
		{name: "other parameters after the first ignored", qname: "b.example.",
			nsec3: append(full("example.", "b.example.", "*.example."), saltedChain[0]), ok: true},
		{name: "other parameters first: the rest ignored", qname: "b.example.",
			nsec3: append([]*dns.NSEC3{saltedChain[0]}, full("example.", "b.example.", "*.example.")...), reason: ReasonNSECMissing},
		{name: "undefined flags ignored", qname: "b.example.",
			nsec3: withFlags(full("example.", "b.example.", "*.example."), 2), reason: ReasonNSECMissing},
		{name: "record of another zone ignored", qname: "b.example.",
			nsec3: inZone3(full("example.", "b.example.", "*.example."), "other."), reason: ReasonNSECMissing},
		{name: "151 iterations: insecure", qname: "b.example.", nsec3: pick(highIterChain, "example.", "b.example.", "*.example."),
			reason: ReasonNSEC3Iterations},
		{name: "150 iterations", qname: "b.example.", nsec3: pick(maxIterChain, "example.", "b.example.", "*.example."), ok: true},
		{name: "salted", qname: "b.example.", nsec3: pick(saltedChain, "example.", "b.example.", "*.example."), ok: true},
	})
}

func TestNSEC3NoData(t *testing.T) {
	runNoData(t, []proofCase{
		{name: "matching NSEC3 without the type", qname: "a.example.", qtype: dns.TypeMX, nsec3: full("a.example."), ok: true},
		{name: "bitmap has the type", qname: "a.example.", qtype: dns.TypeA, nsec3: full("a.example."), reason: ReasonBogus},
		{name: "bitmap has CNAME", qname: "c.example.", qtype: dns.TypeA, nsec3: full("c.example."), reason: ReasonBogus},
		{name: "empty non-terminal", qname: "y.example.", qtype: dns.TypeA, nsec3: full("y.example."), ok: true},
		{name: "DS at an unsigned delegation", qname: "ins.example.", qtype: dns.TypeDS, nsec3: full("ins.example."), ok: true},
		{name: "DS at a signed delegation", qname: "sub.example.", qtype: dns.TypeDS, nsec3: full("sub.example."), reason: ReasonBogus},
		{name: "DS at the apex", qname: "example.", qtype: dns.TypeDS, nsec3: full("example."), reason: ReasonBogus},
		{name: "other type at a delegation, parent side", qname: "ins.example.", qtype: dns.TypeA, nsec3: full("ins.example."), reason: ReasonBogus},
		{name: "DS in an opt-out span", qname: "ins.example.", qtype: dns.TypeDS, nsec3: optOut("example.", "ins.example."), ok: true, optOut: true},
		{name: "DS at a name of an opt-out chain", qname: "sub.example.", qtype: dns.TypeDS, nsec3: optOut("sub.example."), reason: ReasonBogus},
		{name: "NODATA at a name of an opt-out chain", qname: "a.example.", qtype: dns.TypeMX, nsec3: optOut("a.example."), ok: true},
		{name: "DS, next closer covered without opt-out", qname: "nx.example.", qtype: dns.TypeDS,
			nsec3: full("example.", "nx.example."), reason: ReasonNSECMissing},
		{name: "A in an opt-out span is no NODATA", qname: "ins.example.", qtype: dns.TypeA,
			nsec3: optOut("example.", "ins.example."), reason: ReasonNSECMissing},
		{name: "wildcard NODATA", qname: "q.w.example.", qtype: dns.TypeMX, nsec3: full("w.example.", "q.w.example.", "*.w.example."), ok: true},
		{name: "wildcard NODATA in an opt-out span", qname: "q.w.example.", qtype: dns.TypeMX,
			nsec3: optOut("w.example.", "q.w.example.", "*.w.example."), ok: true, optOut: true},
		{name: "wildcard has the type", qname: "q.w.example.", qtype: dns.TypeTXT,
			nsec3: full("w.example.", "q.w.example.", "*.w.example."), reason: ReasonBogus},
		{name: "wildcard NODATA without the closest encloser", qname: "q.w.example.", qtype: dns.TypeMX,
			nsec3: full("q.w.example.", "*.w.example."), reason: ReasonNSECMissing},
		{name: "no match and no wildcard", qname: "b.example.", qtype: dns.TypeA, nsec3: full("example.", "b.example.", "*.example."),
			reason: ReasonNSECMissing},
	})
}

func TestNSEC3WildcardAnswer(t *testing.T) {
	runWildcard(t, []proofCase{
		{name: "next closer covered", qname: "q.w.example.", wild: "*.w.example.", nsec3: full("q.w.example."), ok: true},
		{name: "next closer in an opt-out span", qname: "q.w.example.", wild: "*.w.example.", nsec3: optOut("q.w.example."), ok: true, optOut: true},
		{name: "two labels below", qname: "p.q.w.example.", wild: "*.w.example.", nsec3: full("q.w.example.", "p.q.w.example."), ok: true},
		{name: "without the covering NSEC3", qname: "q.w.example.", wild: "*.w.example.", nsec3: unrelated("q.w.example."), reason: ReasonNSECMissing},
		{name: "the name exists", qname: "a.example.", wild: "*.example.", nsec3: full("a.example."), reason: ReasonBogus},
		{name: "a closer name exists", qname: "q.y.example.", wild: "*.example.", nsec3: full("q.y.example.", "y.example."), reason: ReasonBogus},
	})
}

func TestNSEC3InsecureDelegation(t *testing.T) {
	runInsecure(t, []proofCase{
		{name: "matching NSEC3 with NS, no DS", qname: "ins.example.", nsec3: full("ins.example."), ok: true},
		{name: "opt-out", qname: "ins.example.", nsec3: optOut("example.", "ins.example."), ok: true, optOut: true},
		{name: "opt-out below an empty non-terminal", qname: "d.e.example.", nsec3: optOut("example.", "e.example."), ok: true, optOut: true},
		{name: "with DS", qname: "sub.example.", nsec3: full("sub.example."), reason: ReasonBogus},
		{name: "not a delegation", qname: "a.example.", nsec3: full("a.example."), reason: ReasonBogus},
		{name: "does not exist, no opt-out", qname: "nx.example.", nsec3: full("example.", "nx.example."), reason: ReasonBogus},
		{name: "opt-out without the closest encloser", qname: "ins.example.", nsec3: optOut("ins.example."), reason: ReasonNSECMissing},
	})
}

// TestNSEC3Budget checks that hashes are paid for once per name and that
// a spent budget stops a proof.
func TestNSEC3Budget(t *testing.T) {
	proof := full("example.", "b.example.", "*.example.")

	// b.example., example., *.example.: three names, b.example. hashed
	// once although the proof looks at it twice.
	b := NewBudget(0, MaxNSEC3Hashes)
	if _, err := ProveNameError("b.example.", "example.", nil, proof, b); err != nil {
		t.Fatal(err)
	}
	if got := b.HashesUsed(); got != 3 {
		t.Errorf("HashesUsed = %d, want 3", got)
	}

	b = NewBudget(0, 2)
	_, err := ProveNameError("b.example.", "example.", nil, proof, b)
	wantReason(t, err, false, ReasonBudget)
	if got := b.HashesUsed(); got != 2 {
		t.Errorf("HashesUsed = %d, want 2", got)
	}

	// A long name costs no more than a short one: the closest encloser is
	// searched from the zone down (CVE-2023-50868).
	long := "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.0.1.2.3.4.5.6.7.8.9.f.example."
	b = NewBudget(0, MaxNSEC3Hashes)
	if _, err := ProveNameError(long, "example.", nil, full("example.", "f.example.", "*.example."), b); err != nil {
		t.Fatal(err)
	}
	if got := b.HashesUsed(); got != 4 {
		t.Errorf("HashesUsed = %d for a %d-label name, want 4", got, dns.CountLabel(long))
	}

	// Records that neither match nor cover the names on the way make the
	// search descend, but no further than the budget.
	b = NewBudget(0, 8)
	_, err = ProveNameError(long, "example.", nil, []*dns.NSEC3{tinySpan()}, b)
	wantReason(t, err, false, ReasonBudget)

	// Too many iterations: nothing hashed at all.
	b = NewBudget(0, MaxNSEC3Hashes)
	_, err = ProveNoData("a.example.", dns.TypeMX, "example.", nil, pick(highIterChain, "a.example."), b)
	wantReason(t, err, false, ReasonNSEC3Iterations)
	if r, _ := ReasonOf(err); !r.Insecure() {
		t.Error("ReasonNSEC3Iterations is not insecure")
	}
	if got := b.HashesUsed(); got != 0 {
		t.Errorf("HashesUsed = %d, want 0", got)
	}
}

// More chains of example., for the parameters.
var (
	saltedChain   = buildNSEC3("example.", zoneNames, nsec3Params{salt: "AABBCCDD", iter: 1})
	maxIterChain  = buildNSEC3("example.", zoneNames, nsec3Params{iter: MaxNSEC3Iterations})
	highIterChain = buildNSEC3("example.", zoneNames, nsec3Params{iter: MaxNSEC3Iterations + 1})
)

// tinySpan returns an NSEC3 record that covers a single hash value, which
// no name of the tests has.
func tinySpan() *dns.NSEC3 {
	r := *fullChain[0]
	r.Hdr.Name = "00000000000000000000000000000000.example."
	r.NextDomain = "00000000000000000000000000000002"
	return &r
}

// unrelated returns a record of fullChain that neither matches nor covers
// name.
func unrelated(name string) []*dns.NSEC3 {
	for _, r := range fullChain {
		if !r.Match(name) && !r.Cover(name) {
			return []*dns.NSEC3{r}
		}
	}
	panic("every record matches or covers " + name)
}

// withHash returns copies of recs with hash algorithm h.
func withHash(recs []*dns.NSEC3, h uint8) []*dns.NSEC3 {
	return mapNSEC3(recs, func(r *dns.NSEC3) { r.Hash = h })
}

// withFlags returns copies of recs with flags f.
func withFlags(recs []*dns.NSEC3, f uint8) []*dns.NSEC3 {
	return mapNSEC3(recs, func(r *dns.NSEC3) { r.Flags = f })
}

// inZone3 returns copies of recs moved to zone.
func inZone3(recs []*dns.NSEC3, zone string) []*dns.NSEC3 {
	return mapNSEC3(recs, func(r *dns.NSEC3) { r.Hdr.Name = firstLabel(r.Hdr.Name) + "." + zone })
}

func mapNSEC3(recs []*dns.NSEC3, f func(*dns.NSEC3)) []*dns.NSEC3 {
	out := make([]*dns.NSEC3, len(recs))
	for i, r := range recs {
		c := *r
		f(&c)
		out[i] = &c
	}
	return out
}
