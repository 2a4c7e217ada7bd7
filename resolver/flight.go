package resolver

import (
	"context"
	"errors"

	"github.com/miekg/dns"
)

// ErrCachedFailure marks an answer that is a remembered failure (RFC 9520
// section 3.1): the question failed moments ago and is not walked again
// until the failure expires. The original error is wrapped too.
var ErrCachedFailure = errors.New("cached resolution failure")

// flightKey is the question as coalescing and the failure cache see it.
func flightKey(q dns.Question) dns.Question {
	return dns.Question{Name: canonical(q.Name), Qtype: q.Qtype, Qclass: q.Qclass}
}

// flightName is the key of a client question's shared walk.
func flightName(q Query) string {
	k := flightKey(q.Question)
	name := k.Name + "/" + dns.TypeToString[k.Qtype] + "/" + dns.ClassToString[k.Qclass]
	if q.DO {
		name += "/do"
	}
	if q.CD {
		name += "/cd"
	}
	return name
}

// shared decides whether a resolution may be shared with, or answered
// from the failures of, others: not when it is being traced or brings a
// cache of its own, for then it must walk by itself.
func shared(ctx context.Context) bool {
	_, ownCache := ContextCache(ctx)
	return ContextTracer(ctx) == nil && !ownCache
}
