package resolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/miekg/dns"
)

// walk is the state of one client question's resolution, shared by the
// sub-resolutions it needs. It is used by one goroutine only.
type walk struct {
	r      *Resolver
	tracer Tracer
	debug  bool
	cache  optionalCache         // the resolver's, or the context's (WithCache)
	sent   int                   // upstream queries so far, against maxUpstreamQueries
	depth  int                   // nesting of sub-resolutions
	active map[dns.Question]bool // questions being resolved: the loop guard
	// unreachable remembers name servers whose address could not be
	// found in this walk, so that a tangle of glueless delegations is
	// explored once, not once per path into it.
	unreachable map[string]error
}

func (r *Resolver) newWalk(ctx context.Context) *walk {
	w := &walk{
		r:      r,
		tracer: ContextTracer(ctx),
		debug:  r.log.Enabled(ctx, slog.LevelDebug),
		cache:  r.cache,
		active: make(map[dns.Question]bool),

		unreachable: make(map[string]error),
	}
	if c, ok := ContextCache(ctx); ok {
		w.cache = optionalCache{c}
	}
	return w
}

// tracing reports whether anyone looks at events; when nobody does, the
// walk builds none.
func (w *walk) tracing() bool { return w.tracer != nil || w.debug }

func (w *walk) emit(ctx context.Context, e Event) {
	e.Depth = w.depth
	if w.tracer != nil {
		w.tracer.Event(e)
	}
	if w.debug {
		logEvent(ctx, w.r.log, e)
	}
}

// resolveGuarded resolves q unless q is already being resolved further up
// this walk, which would be a loop (name servers that can only be found
// through themselves).
func (w *walk) resolveGuarded(ctx context.Context, q dns.Question) (*dns.Msg, error) {
	key := dns.Question{Name: canonical(q.Name), Qtype: q.Qtype, Qclass: q.Qclass}
	if w.active[key] {
		return nil, fmt.Errorf("%w: %s %s is needed to resolve itself", ErrLoop, q.Name, dns.TypeToString[q.Qtype])
	}
	w.active[key] = true
	defer delete(w.active, key)
	return w.resolve(ctx, q)
}

// resolve looks q up and chases CNAME and DNAME records to the end of the
// chain. The rcode and authority section are those of the last name.
func (w *walk) resolve(ctx context.Context, q dns.Question) (*dns.Msg, error) {
	result := new(dns.Msg)
	seen := make(map[string]bool)
	hop := q
	for range maxChainLength {
		name := canonical(hop.Name)
		if seen[name] {
			return nil, fmt.Errorf("%w: CNAME chain returns to %s", ErrLoop, hop.Name)
		}
		seen[name] = true

		reply, err := w.lookup(ctx, hop)
		if err != nil {
			return nil, err
		}
		result.Answer = append(result.Answer, reply.Answer...)
		result.Ns = reply.Ns
		result.Rcode = reply.Rcode

		next, ok := chainEnd(reply, hop)
		if !ok {
			return result, nil
		}
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventRestart, Question: hop, Target: next})
		}
		hop.Name = next
	}
	return nil, fmt.Errorf("%w: more than %d CNAME/DNAME hops", ErrBudgetExceeded, maxChainLength)
}

// chainEnd reports whether reply, an answer to q, ends in a CNAME chain
// without the requested data, and if so the name to continue with.
func chainEnd(reply *dns.Msg, q dns.Question) (string, bool) {
	if q.Qtype == dns.TypeCNAME || q.Qtype == dns.TypeANY || reply.Rcode == dns.RcodeYXDomain {
		return "", false
	}
	// An NXDOMAIN or NODATA after a CNAME is chased too: a server may only
	// speak for its own zone, and the target's authority says whether the
	// target exists (RFC 6604 section 3; Unbound does the same).
	name := q.Name
	for range len(reply.Answer) {
		moved := false
		for _, rr := range reply.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
				name, moved = c.Target, true
				break
			}
		}
		if !moved {
			break
		}
	}
	if strings.EqualFold(name, q.Name) {
		return "", false
	}
	for _, rr := range reply.Answer {
		if h := rr.Header(); strings.EqualFold(h.Name, name) && h.Rrtype == q.Qtype {
			return "", false
		}
	}
	return name, true
}

// lookup answers one name from the cache or by walking down from the
// deepest zone cut known, following referrals. It does not chase CNAMEs.
func (w *walk) lookup(ctx context.Context, q dns.Question) (*dns.Msg, error) {
	if m, ok := w.cache.lookupAnswer(q, w.r.clock.Now()); ok {
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventCacheHit, Question: q, Reply: m})
		}
		return m, nil
	}
	dp, source := w.startDelegation(q)
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventStart, Question: q, Zone: dp.zone, Target: source})
	}
	for range maxReferralDepth {
		out, err := w.askZone(ctx, dp, q)
		if err != nil {
			return nil, err
		}
		if out.kind == kindReferral {
			w.cache.storeDelegation(out.next, w.r.clock.Now())
			dp = out.next
			continue
		}
		return w.cache.storeAnswer(q, out.msg, w.r.clock.Now()), nil
	}
	return nil, fmt.Errorf("%w: more than %d referrals for %s", ErrBudgetExceeded, maxReferralDepth, q.Name)
}

// startDelegation returns the deepest cached zone cut above q's name, or
// the root from the hints, and says which. A DS record lives on the parent
// side of a zone cut (RFC 4035 section 3.1.4.1), so its walk starts above
// the name itself.
func (w *walk) startDelegation(q dns.Question) (*delegation, string) {
	name := canonical(q.Name)
	if q.Qtype == dns.TypeDS {
		name = parentZone(name)
	}
	now := w.r.clock.Now()
	for {
		if m, ok := w.cache.lookupDelegation(name, now); ok {
			if d := delegationFromMsg(name, m); len(d.servers) > 0 {
				return d, "cache"
			}
		}
		if name == "." {
			return hintsDelegation(w.r.hints), "hints"
		}
		name = parentZone(name)
	}
}

// askZone asks the servers of dp about q until one gives a usable reply:
// an answer, a negative answer, or a referral. Servers with known
// addresses are tried first; glueless ones are resolved only when needed.
func (w *walk) askZone(ctx context.Context, dp *delegation, q dns.Question) (outcome, error) {
	var failures []error
	lookups := 0
	for _, ns := range w.r.shuffle(dp.servers) {
		addrs := w.r.usable(ns.Addrs)
		if len(addrs) == 0 {
			// Glueless, or the glue holds only addresses we may not use.
			if lookups == maxNSAddressLookups {
				if w.tracing() {
					w.emit(ctx, Event{Kind: EventSkip, Question: q, Zone: dp.zone, Target: ns.Name,
						Err: fmt.Errorf("%w: already resolved %d glueless servers of %s", ErrBudgetExceeded, maxNSAddressLookups, dp.zone)})
				}
				continue
			}
			lookups++
			var err error
			if addrs, err = w.addresses(ctx, ns.Name); err != nil {
				if stop(ctx, err) {
					return outcome{}, err
				}
				failures = append(failures, fmt.Errorf("%s: %w", ns.Name, err))
				if w.tracing() {
					w.emit(ctx, Event{Kind: EventSkip, Question: q, Zone: dp.zone, Target: ns.Name, Err: err})
				}
				continue
			}
		}
		for _, addr := range addrs {
			out, err := w.ask(ctx, dp.zone, ns.Name, addr, q)
			if err != nil {
				if stop(ctx, err) {
					return outcome{}, err
				}
				failures = append(failures, fmt.Errorf("%s (%s): %w", ns.Name, addr, err))
				continue
			}
			switch out.kind {
			case kindLame:
				failures = append(failures, fmt.Errorf("%s (%s): %w: %s", ns.Name, addr, ErrLameDelegation, out.why))
			case kindFailure:
				failures = append(failures, fmt.Errorf("%s (%s): %s", ns.Name, addr, out.why))
			default:
				return out, nil
			}
		}
	}
	if len(failures) == 0 {
		failures = append(failures, errors.New("no server with a usable address"))
	}
	return outcome{}, fmt.Errorf("%w for %s: %w", ErrNoReachableAuthority, dp.zone, joinErrors(failures...))
}

// errOutOfQueries is the walk's upstream query budget running out.
var errOutOfQueries = fmt.Errorf("%w: %d upstream queries", ErrBudgetExceeded, maxUpstreamQueries)

// stop reports whether err ends the whole walk rather than one server's
// turn: the query budget is spent or the caller gave up.
func stop(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, errOutOfQueries)
}
