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
	return !inPrefixes(a.Deny, addr) && inPrefixes(a.Allow, addr)
}

// inPrefixes reports whether a, IPv4-mapped addresses as IPv4 and without
// a zone, is in one of ps.
func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Action is what the handler does with a query it will not serve: one
// from a client outside the ACL, or over its rate.
type Action int

// The actions (acl.action, ratelimit.action).
const (
	// ActionRefuse answers REFUSED, so that the client turns to another
	// resolver at once instead of waiting for its timeout.
	ActionRefuse Action = iota
	// ActionDrop sends no reply: a flood with forged source addresses
	// then reflects nothing onto the addresses it forges.
	ActionDrop
)

// String returns the action as the configuration spells it, which is also
// its label in the metrics.
func (a Action) String() string {
	if a == ActionDrop {
		return "drop"
	}
	return "refuse"
}

// valid reports whether a is one of the actions.
func (a Action) valid() bool { return a == ActionRefuse || a == ActionDrop }
