package resolver

import (
	"context"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// DNSSEC records on the way through. A walk for a query with the DO bit,
// and every walk of a validating resolver, asks the authorities with DO
// too (RFC 3225), and keeps with what classify believed the DNSSEC
// records that belong to it: the RRSIGs over
// each RRset kept in the answer and authority sections, and the NSEC and
// NSEC3 records of the zone asked, with their RRSIGs, that prove a name
// error, a NODATA or a wildcard expansion (RFC 4035 section 3.2.1: a
// security-aware resolver hands them to a client that asked for them).
// An answer cached for a query without DO is stored without them (check),
// so clients that did not set DO never see them.

// keepDNSSEC adds to out's message, for a walk with DO, the DNSSEC
// records of reply that go with it. reply came from a server of zone.
func (w *walk) keepDNSSEC(out outcome, reply *dns.Msg, zone string) outcome {
	if !w.upstreamDO() || out.msg == nil {
		return out
	}
	m := out.msg
	m.Answer = append(m.Answer, sigsFor(reply.Answer, m.Answer, zone)...)
	var proofs []dns.RR
	for _, rr := range reply.Ns {
		switch rr.Header().Rrtype {
		case dns.TypeNSEC, dns.TypeNSEC3:
			if dns.IsSubDomain(zone, rr.Header().Name) {
				proofs = append(proofs, rr)
			}
		}
	}
	m.Ns = append(m.Ns, proofs...)
	m.Ns = append(m.Ns, sigsFor(reply.Ns, m.Ns, zone)...)
	return out
}

// check validates out, the answer zone's servers gave to q, when the walk
// validates, marking a secure answer with the AD bit, and strips the
// DNSSEC records from an answer cached for a query without DO.
func (w *walk) check(ctx context.Context, q dns.Question, out outcome, zone string) error {
	if out.msg == nil {
		return nil
	}
	if w.validating() {
		v, err := w.validate(ctx, q, out, zone)
		if err != nil {
			return err
		}
		out.msg.AuthenticatedData = v == verdictSecure
	}
	if !w.query(q).DO {
		out.msg.Answer = withoutDNSSEC(out.msg.Answer)
		out.msg.Ns = withoutDNSSEC(out.msg.Ns)
	}
	return nil
}

// hasDenial reports whether rrs hold an NSEC or NSEC3 record.
func hasDenial(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; t == dns.TypeNSEC || t == dns.TypeNSEC3 {
			return true
		}
	}
	return false
}

// withoutDNSSEC returns rrs less their RRSIG, NSEC and NSEC3 records: rrs
// itself when it has none, as most have.
func withoutDNSSEC(rrs []dns.RR) []dns.RR {
	if !slices.ContainsFunc(rrs, isDNSSEC) {
		return rrs
	}
	return slices.DeleteFunc(slices.Clone(rrs), isDNSSEC)
}

// isDNSSEC reports whether rr is an RRSIG, NSEC or NSEC3 record.
func isDNSSEC(rr dns.RR) bool {
	switch rr.Header().Rrtype {
	case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
		return true
	}
	return false
}

// sigsFor returns the RRSIGs among rrs, owned inside zone, that cover an
// RRset of kept (same owner, the type they cover).
func sigsFor(rrs, kept []dns.RR, zone string) []dns.RR {
	type rrset struct {
		name string
		t    uint16
	}
	have := make(map[rrset]bool, len(kept))
	for _, rr := range kept {
		h := rr.Header()
		have[rrset{strings.ToLower(h.Name), h.Rrtype}] = true
	}
	var out []dns.RR
	for _, rr := range rrs {
		sig, ok := rr.(*dns.RRSIG)
		if ok && dns.IsSubDomain(zone, sig.Hdr.Name) && have[rrset{strings.ToLower(sig.Hdr.Name), sig.TypeCovered}] {
			out = append(out, sig)
		}
	}
	return out
}
