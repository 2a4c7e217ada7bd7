package resolver

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// replyKind is what a server's reply means for the walk
// (compare Unbound's iterator/iter_resptype.h).
type replyKind uint8

const (
	kindAnswer   replyKind = iota + 1 // data, or a CNAME/DNAME chain toward it
	kindNXDOMAIN                      // the name does not exist
	kindNODATA                        // the name exists, the type does not
	kindReferral                      // go down to a child zone's servers
	kindLame                          // the server does not serve the zone
	kindFailure                       // the server failed (SERVFAIL, FORMERR, ...)
)

var kindNames = [...]string{
	kindAnswer:   "answer",
	kindNXDOMAIN: "nxdomain",
	kindNODATA:   "nodata",
	kindReferral: "referral",
	kindLame:     "lame",
	kindFailure:  "failure",
}

func (k replyKind) String() string { return kindNames[k] }

// outcome is a classified, scrubbed reply.
type outcome struct {
	kind replyKind
	// msg holds, for answers and negative replies, only what may be
	// believed: the chain from the question to its data in the answer
	// section, and the SOA of a negative reply in the authority section.
	msg *dns.Msg
	// next is the child zone of a referral.
	next *delegation
	// why explains a lame or failed reply.
	why string
}

// classify decides what reply, from a server of zone, means for q, and
// scrubs it: records outside zone, or not on the path from q to its
// answer, are dropped (RFC 2181 section 5.4.1; Unbound's iter_scrub.c).
func classify(reply *dns.Msg, q dns.Question, zone string) outcome {
	switch reply.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeYXDomain:
	case dns.RcodeRefused:
		return outcome{kind: kindLame, why: "REFUSED"}
	default:
		return outcome{kind: kindFailure, why: rcodeName(reply.Rcode)}
	}
	if reply.Truncated {
		return outcome{kind: kindFailure, why: "truncated reply"}
	}

	answer, end := scrubAnswer(reply.Answer, q, zone)
	soa := negativeSOA(reply.Ns, end, zone)
	msg := &dns.Msg{Answer: answer}
	msg.Rcode = reply.Rcode
	msg.Authoritative = reply.Authoritative // how far the cache trusts it
	if soa != nil {
		msg.Ns = []dns.RR{soa}
	}

	switch reply.Rcode {
	case dns.RcodeNameError:
		if soa == nil && !reply.Authoritative {
			return outcome{kind: kindLame, why: "non-authoritative NXDOMAIN without SOA"}
		}
		return outcome{kind: kindNXDOMAIN, msg: msg}
	case dns.RcodeYXDomain:
		// RFC 6672 section 2.2: a DNAME substitution would overflow.
		return outcome{kind: kindAnswer, msg: msg}
	}

	if len(answer) > 0 {
		return outcome{kind: kindAnswer, msg: msg}
	}
	if soa != nil {
		return outcome{kind: kindNODATA, msg: msg}
	}
	if len(reply.Answer) > 0 {
		// It answered, but nothing it said was inside its zone.
		return outcome{kind: kindLame, why: "answer outside the zone asked"}
	}
	// A referral is a referral even with AA wrongly set, as some servers do.
	if next, ok := referral(reply, q, zone); ok {
		return outcome{kind: kindReferral, next: next}
	}
	if reply.Authoritative {
		return outcome{kind: kindNODATA, msg: msg} // without an SOA: not cached
	}
	return outcome{kind: kindLame, why: "non-authoritative reply without answer or referral"}
}

// scrubAnswer keeps the records of the answer section that lead from q to
// its data: DNAMEs above the current name (with the CNAME they imply
// synthesized here rather than believed), CNAMEs of the current name, and
// finally the records of the requested type at the end of the chain. Only
// records inside zone count. It returns those records and the name at the
// end of the chain.
func scrubAnswer(rrs []dns.RR, q dns.Question, zone string) ([]dns.RR, string) {
	name := q.Name
	var out []dns.RR
	follow := q.Qtype != dns.TypeCNAME && q.Qtype != dns.TypeANY
	for step := 0; follow && step < len(rrs); step++ {
		if d := findDNAME(rrs, name, zone); d != nil && q.Qtype != dns.TypeDNAME {
			target, ok := substitute(name, d)
			if !ok {
				break
			}
			cname := &dns.CNAME{
				Hdr:    dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: d.Hdr.Class, Ttl: d.Hdr.Ttl},
				Target: target,
			}
			out = append(out, d, cname)
			name = target
			continue
		}
		c := findCNAME(rrs, name, zone)
		if c == nil {
			break
		}
		out = append(out, c)
		name = c.Target
	}
	for _, rr := range rrs {
		h := rr.Header()
		if !strings.EqualFold(h.Name, name) || !dns.IsSubDomain(zone, h.Name) || h.Class != q.Qclass {
			continue
		}
		if h.Rrtype == q.Qtype || (q.Qtype == dns.TypeANY && h.Rrtype != dns.TypeRRSIG) {
			out = append(out, rr)
		}
	}
	return out, name
}

// findDNAME returns a DNAME inside zone whose owner is a strict ancestor of name.
func findDNAME(rrs []dns.RR, name, zone string) *dns.DNAME {
	for _, rr := range rrs {
		d, ok := rr.(*dns.DNAME)
		if !ok || !dns.IsSubDomain(zone, d.Hdr.Name) {
			continue
		}
		if dns.IsSubDomain(d.Hdr.Name, name) && !strings.EqualFold(d.Hdr.Name, name) {
			return d
		}
	}
	return nil
}

// substitute applies d to name (RFC 6672 section 2.2); ok is false when the
// result would be longer than a name may be.
func substitute(name string, d *dns.DNAME) (string, bool) {
	prefix := name[:len(name)-len(d.Hdr.Name)]
	target := prefix + dns.Fqdn(d.Target)
	if d.Target == "." {
		target = prefix
	}
	if _, ok := dns.IsDomainName(target); !ok || len(target) > 254 {
		return "", false
	}
	return target, true
}

// findCNAME returns the CNAME owned by name, if it is inside zone.
func findCNAME(rrs []dns.RR, name, zone string) *dns.CNAME {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) && dns.IsSubDomain(zone, c.Hdr.Name) {
			return c
		}
	}
	return nil
}

// negativeSOA returns the SOA of the authority section that may stand for
// a negative answer about name: inside zone, and at or above name.
func negativeSOA(rrs []dns.RR, name, zone string) *dns.SOA {
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(zone, soa.Hdr.Name) && dns.IsSubDomain(soa.Hdr.Name, name) {
			return soa
		}
	}
	return nil
}

// referral reads a referral from reply: an NS RRset for a zone strictly
// below zone and at or above q's name, plus the glue for it that lies
// inside zone. An NS RRset at or above zone is an upward or sideways
// referral, which makes the server lame.
func referral(reply *dns.Msg, q dns.Question, zone string) (*delegation, bool) {
	child := ""
	var ns []dns.RR
	for _, rr := range reply.Ns {
		n, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		owner := n.Hdr.Name
		if child == "" {
			if !dns.IsSubDomain(owner, q.Name) || !dns.IsSubDomain(zone, owner) || dns.CountLabel(owner) <= dns.CountLabel(zone) {
				continue
			}
			child = owner
		}
		if strings.EqualFold(owner, child) {
			ns = append(ns, n)
		}
	}
	if child == "" {
		return nil, false
	}
	var glue []dns.RR
	for _, rr := range reply.Extra {
		t := rr.Header().Rrtype
		if (t == dns.TypeA || t == dns.TypeAAAA) && dns.IsSubDomain(zone, rr.Header().Name) {
			glue = append(glue, rr)
		}
	}
	return newDelegation(child, ns, glue), true
}

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}
