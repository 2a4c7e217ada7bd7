package dnssec

import (
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

// Names arrive in presentation format and any case. They are compared with
// canonical.Compare, which folds case and reads escapes (\065 is A), so a
// name is never lower-cased or re-escaped here; only the NSEC3 hash cache
// keys on a lower-cased copy.

// sameName reports whether a and b are the same domain name.
func sameName(a, b string) bool { return canonical.Compare(a, b) == 0 }

// labelCount returns the number of labels of name, the root having none.
func labelCount(name string) int { return dns.CountLabel(name) }

// ancestor returns the ancestor of the fully qualified name that has n
// labels: name itself when n is at least its label count, the root when
// n is zero or less.
func ancestor(name string, n int) string {
	idx := dns.Split(name)
	switch {
	case n >= len(idx):
		return name
	case n <= 0:
		return "."
	}
	return name[idx[len(idx)-n]:]
}

// parent returns the name one label up from name (the root for the root).
func parent(name string) string { return ancestor(name, labelCount(name)-1) }

// firstLabel returns the first label of the fully qualified name, as
// written (escapes kept); the root has none.
func firstLabel(name string) string {
	idx := dns.Split(name)
	switch len(idx) {
	case 0:
		return ""
	case 1:
		return name[:len(name)-1]
	}
	return name[:idx[1]-1]
}

// inZone reports whether name is zone or below it.
func inZone(name, zone string) bool {
	n, z := labelCount(name), labelCount(zone)
	return n >= z && sameName(ancestor(name, z), zone)
}

// below reports whether name is strictly below anc.
func below(name, anc string) bool {
	return labelCount(name) > labelCount(anc) && inZone(name, anc)
}

// commonAncestor returns the deepest name that is a or an ancestor of a
// and also b or an ancestor of b.
func commonAncestor(a, b string) string {
	for n := min(labelCount(a), labelCount(b)); n > 0; n-- {
		if x := ancestor(a, n); sameName(x, ancestor(b, n)) {
			return x
		}
	}
	return "."
}

// isWildcard reports whether name's first label is the asterisk label.
func isWildcard(name string) bool { return strings.HasPrefix(name, "*.") || name == "*" }

// wildcardAt returns the wildcard name immediately below ce.
func wildcardAt(ce string) string {
	if ce == "." {
		return "*."
	}
	return "*." + ce
}

// checkName returns name fully qualified, or an error if it is not a
// valid domain name.
func checkName(what, name string) (string, error) {
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return "", fail(ReasonBogus, "invalid %s %q", what, name)
	}
	return dns.Fqdn(name), nil
}

// asciiLower lower-cases the ASCII letters of s and leaves every other
// octet alone, as DNS compares names (strings.ToLower would turn an octet
// that is not UTF-8 into U+FFFD, merging different names).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// hasType reports whether an NSEC or NSEC3 type bitmap lists t.
func hasType(bitmap []uint16, t uint16) bool { return slices.Contains(bitmap, t) }
