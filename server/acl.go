package server

import "net/netip"

// ACL decides which clients may use the resolver. Deny wins over Allow;
// a client in neither is refused, so the zero ACL refuses everyone and
// rootwalk is never an open resolver by accident. The default lists live
// in the config package (acl.allow, acl.deny).
type ACL struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
}

// Allows reports whether addr may use the resolver.
func (a *ACL) Allows(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range a.Deny {
		if p.Contains(addr) {
			return false
		}
	}
	for _, p := range a.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
