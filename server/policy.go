package server

import (
	"fmt"
	"math"
)

// Policy is who the handler answers and how fast: the part of its options
// that a configuration reload may change while it serves.
type Policy struct {
	ACL       ACL       // who may ask; the zero ACL refuses everyone
	ACLAction Action    // what clients outside the ACL get
	RateLimit RateLimit // per-client query rate; the zero value does not limit
}

// livePolicy is a Policy with the rate limiter that enforces it.
type livePolicy struct {
	Policy
	limiter *rateLimiter // nil: no rate limit
}

// SetPolicy makes p the handler's policy for every query from now on. A
// rate limit that has not changed keeps the buckets its clients have
// spent; a new one starts them all full.
func (h *Handler) SetPolicy(p Policy) error {
	if err := checkPolicy(p); err != nil {
		return fmt.Errorf("set policy: %w", err)
	}
	live := &livePolicy{Policy: p}
	old := h.policy.Load()
	switch {
	case !p.RateLimit.Enabled():
		h.metrics.rateClients.Store(0)
	case old != nil && old.limiter != nil && old.RateLimit == p.RateLimit:
		live.limiter = old.limiter
	default:
		live.limiter = newRateLimiter(p.RateLimit, maxRateClients, h.clock, &h.metrics.rateClients)
	}
	h.policy.Store(live)
	return nil
}

// checkPolicy returns what is wrong with p, or nil.
func checkPolicy(p Policy) error {
	r := p.RateLimit
	switch {
	case !p.ACLAction.valid():
		return fmt.Errorf("ACL action %d: want ActionRefuse or ActionDrop", p.ACLAction)
	case !r.Action.valid():
		return fmt.Errorf("rate limit action %d: want ActionRefuse or ActionDrop", r.Action)
	case !(r.QPS >= 0) || math.IsInf(r.QPS, 0) || r.Burst < 0:
		return fmt.Errorf("rate limit %v queries a second, burst %d: want a finite rate and a burst of at least 0", r.QPS, r.Burst)
	}
	return nil
}
