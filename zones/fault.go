package zones

import "strconv"

// Fault is a misbehaviour a server shows on purpose, so resolvers can be
// tested against broken delegations.
type Fault int

// The faults a lab server can have.
const (
	// FaultNone: the server answers from its zones.
	FaultNone Fault = iota
	// FaultRefuse: the server answers REFUSED to every query, like a lame
	// server that is not configured for the zones delegated to it.
	FaultRefuse
	// FaultSilent: the server reads queries and never answers, over UDP
	// or TCP, like a host that is down or a firewall that drops packets.
	FaultSilent
)

// String returns "none", "refuse" or "silent".
func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "none"
	case FaultRefuse:
		return "refuse"
	case FaultSilent:
		return "silent"
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}
