package sign

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

var (
	errName    = errors.New("bad domain name")
	errNoSOA   = errors.New("no SOA record at the origin")
	errOutside = errors.New("outside the zone")
	errRecord  = errors.New("record cannot be signed")
)

// zone is the part of a zone's records that signing looks at: the names
// that are authoritative or cuts, each with its RRsets. Names below a cut
// are left out, since they are neither signed nor in a denial chain.
type zone struct {
	apex  string
	soa   *dns.SOA
	nodes map[string]*node
	names []string // the keys of nodes in canonical order
}

// node is one owner name of a zone with the caller's records at it.
type node struct {
	name   string
	rrsets map[uint16][]dns.RR
	cut    bool // a delegation: only its DS RRset is authoritative
}

// newZone groups records by canonical owner name and type, finds the zone
// cuts, and drops the names below them.
func newZone(apex string, records []dns.RR) (*zone, error) {
	all, err := group(apex, records)
	if err != nil {
		return nil, err
	}
	z := &zone{apex: apex, nodes: make(map[string]*node)}
	if z.soa, err = apexSOA(all[apex]); err != nil {
		return nil, err
	}
	delegations := make(map[string]bool)
	for name, sets := range all {
		if name != apex && len(sets[dns.TypeNS]) > 0 {
			delegations[name] = true
		}
	}
	for name, sets := range all {
		if !occluded(name, apex, delegations) {
			z.nodes[name] = &node{name: name, rrsets: sets, cut: delegations[name]}
			z.names = append(z.names, name)
		}
	}
	canonical.Sort(z.names)
	for _, name := range z.names {
		if n := z.nodes[name]; !n.cut && len(n.rrsets[dns.TypeDS]) > 0 {
			// A DS elsewhere would be signed as if the zone vouched for a
			// child that it does not delegate to.
			return nil, fmt.Errorf("%w: DS at %s, which is not a delegation", errRecord, name)
		}
	}
	return z, nil
}

// group checks each record and indexes it by canonical owner and type.
func group(apex string, records []dns.RR) (map[string]map[uint16][]dns.RR, error) {
	all := make(map[string]map[uint16][]dns.RR)
	for i, rr := range records {
		owner, err := checkRecord(apex, rr)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		sets := all[owner]
		if sets == nil {
			sets = make(map[uint16][]dns.RR)
			all[owner] = sets
		}
		t := rr.Header().Rrtype
		sets[t] = append(sets[t], rr)
	}
	return all, nil
}

// checkRecord returns the canonical owner of rr, or why it cannot be
// signed as part of the zone at apex.
func checkRecord(apex string, rr dns.RR) (string, error) {
	if isNil(rr) || rr.Header() == nil {
		return "", fmt.Errorf("%w: nil record", errRecord)
	}
	h := rr.Header()
	owner, err := canonicalName(h.Name)
	if err != nil {
		return "", fmt.Errorf("owner %q: %w", h.Name, err)
	}
	t := dns.Type(h.Rrtype)
	switch {
	case !within(owner, apex):
		return "", fmt.Errorf("%s %s: %w", owner, t, errOutside)
	case h.Class != dns.ClassINET:
		return "", fmt.Errorf("%w: %s %s has class %s, not IN", errRecord, owner, t, dns.Class(h.Class))
	case generated[h.Rrtype]:
		return "", fmt.Errorf("%w: %s %s: the signer makes the DNSSEC records itself", errRecord, owner, t)
	case h.Rrtype == 0 || h.Rrtype == dns.TypeOPT || (h.Rrtype >= 128 && h.Rrtype <= 255):
		return "", fmt.Errorf("%w: %s %s is not a data type (RFC 6895 section 3.1)", errRecord, owner, t)
	case strings.HasPrefix(owner, "*") && !strings.HasPrefix(owner, "*."):
		// miekg/dns counts the RRSIG labels of any owner starting with
		// '*' as a wildcard's, so "*x" would be signed as if expanded.
		return "", fmt.Errorf("%w: %s: a first label that starts with '*' but is not the wildcard", errRecord, owner)
	}
	return owner, nil
}

// isNil reports whether rr is nil, also as a nil pointer of an RR type,
// whose Header method would panic.
func isNil(rr dns.RR) bool {
	if rr == nil {
		return true
	}
	v := reflect.ValueOf(rr)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// generated are the types Sign makes: taking them from the caller as well
// would make RRsets that no signature covers as a whole.
var generated = map[uint16]bool{
	dns.TypeDNSKEY:     true,
	dns.TypeRRSIG:      true,
	dns.TypeNSEC:       true,
	dns.TypeNSEC3:      true,
	dns.TypeNSEC3PARAM: true,
}

// apexSOA returns the zone's one SOA record.
func apexSOA(sets map[uint16][]dns.RR) (*dns.SOA, error) {
	soas := sets[dns.TypeSOA]
	switch len(soas) {
	case 0:
		return nil, errNoSOA
	case 1:
	default:
		return nil, fmt.Errorf("%w: %d SOA records at the origin", errRecord, len(soas))
	}
	soa, ok := soas[0].(*dns.SOA)
	if !ok {
		return nil, fmt.Errorf("%w: SOA record of Go type %T", errRecord, soas[0])
	}
	return soa, nil
}

// occluded reports whether name is below one of the delegations, where
// only glue or data hidden by the cut can be.
func occluded(name, apex string, delegations map[string]bool) bool {
	for _, a := range ancestors(name, apex) {
		if delegations[a] {
			return true
		}
	}
	return false
}

// ancestors returns the names strictly between name and apex, nearest
// first. name must be canonical and within apex.
func ancestors(name, apex string) []string {
	var out []string
	for _, i := range dns.Split(name) {
		a := name[i:]
		if a == apex {
			break
		}
		if i > 0 {
			out = append(out, a)
		}
	}
	return out
}

// within reports whether the canonical name is apex or below it. It
// compares whole labels, so "a\.example." is not below "example.".
func within(name, apex string) bool {
	if apex == "." || name == apex {
		return true
	}
	for _, i := range dns.Split(name) {
		if name[i:] == apex {
			return true
		}
	}
	return false
}

// canonicalName returns name as a lower-case FQDN in one spelling: the
// round trip through wire format turns "\065" into "a" and "\042" into
// "*", so that grouping by string agrees with comparing the names on the
// wire (RFC 4034 section 6.2).
func canonicalName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty (the root is \".\")", errName)
	}
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", errName, name, err)
	}
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", errName, name, err)
	}
	return dns.CanonicalName(out), nil
}

// signedTypes returns the types of the RRsets at n that are authoritative
// and so signed, in order.
func (n *node) signedTypes() []uint16 {
	if n.cut {
		if len(n.rrsets[dns.TypeDS]) > 0 {
			return []uint16{dns.TypeDS}
		}
		return nil
	}
	return sortedTypes(n.rrsets)
}

// listedTypes returns the types an NSEC or NSEC3 bitmap lists for the
// caller's data at n: at a cut the NS and DS only, the rest being glue.
func (n *node) listedTypes() []uint16 {
	if n.cut {
		return append([]uint16{dns.TypeNS}, n.signedTypes()...)
	}
	return sortedTypes(n.rrsets)
}

func sortedTypes(sets map[uint16][]dns.RR) []uint16 {
	types := make([]uint16, 0, len(sets))
	for t := range sets {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// bitmap returns types plus extra, sorted and without repeats, as
// miekg/dns packs a type bitmap only in order.
func bitmap(types []uint16, extra ...uint16) []uint16 {
	out := append(slices.Clone(types), extra...)
	slices.Sort(out)
	return slices.Compact(out)
}
