// Package canonical orders domain names as DNSSEC does (RFC 4034 section
// 6.1), for both sides of DNSSEC: the lab's signer builds its NSEC chains
// in this order, and the resolver's validator checks that an NSEC record
// covers a name by it.
//
// The order sorts names by their labels from the root down, each label
// compared as a string of octets with ASCII letters folded to lower case,
// a shorter label before a longer one that it prefixes, and a name before
// the names below it: example. < a.example. < yljkjljk.a.example. <
// Z.a.example. < z.example., as the RFC lists them. Names are in
// presentation format, as miekg/dns gives them;
// escaped octets (\DDD and \X) are compared as the octets they stand for.
package canonical

import (
	"slices"

	"github.com/miekg/dns"
)

// Compare returns -1, 0 or +1 as a sorts before, equal to, or after b in
// canonical DNS name order. A missing final dot is allowed.
func Compare(a, b string) int {
	la, lb := labels(a), labels(b)
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		if c := compareLabel(la[len(la)-i], lb[len(lb)-i]); c != 0 {
			return c
		}
	}
	switch {
	case len(la) < len(lb):
		return -1
	case len(la) > len(lb):
		return 1
	}
	return 0
}

// Sort sorts names in canonical order.
func Sort(names []string) { slices.SortFunc(names, Compare) }

// Covers reports whether name falls strictly between owner and next in
// canonical order, as the span of an NSEC record from owner to next
// denies it (RFC 4034 section 4.1.1). When next is not after owner, the
// record is the last of its chain and wraps to the zone's apex: it covers
// the names after owner and, if next is a proper ancestor of them, below
// next; that is every name after owner within the zone.
func Covers(owner, next, name string) bool {
	if Compare(owner, next) < 0 {
		return Compare(owner, name) < 0 && Compare(name, next) < 0
	}
	// The last NSEC of the chain: next is the apex.
	return Compare(owner, name) < 0 && dns.IsSubDomain(next, name)
}

// labels returns name's labels, unescaped and lower-cased, from the left.
func labels(name string) [][]byte {
	var out [][]byte
	var cur []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\' && i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]):
			c = byte(int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0'))
			i += 3
		case c == '\\' && i+1 < len(name):
			i++
			c = name[i]
		case c == '.':
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		cur = append(cur, c)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// compareLabel compares two lower-cased labels as octet strings.
func compareLabel(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}
