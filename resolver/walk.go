package resolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/internal/dnssec"
	"github.com/rootwalk/rootwalk/resolver/internal/selection"
)

// walk is the state of one client question's resolution, shared by the
// sub-resolutions it needs. It is used by one goroutine only.
type walk struct {
	r       *Resolver
	tracer  Tracer
	debug   bool
	cache   optionalCache         // the resolver's, or the context's (WithCache)
	sent    int                   // upstream queries so far, against maxUpstreamQueries
	depth   int                   // nesting of sub-resolutions
	active  map[dns.Question]bool // questions being resolved: the loop guard
	priming bool                  // a priming query is under way in this walk
	// privateCache: the cache came with the context (a cold trace).
	privateCache bool
	// client is the client's question, which the shared cache may
	// answer (shared.go); nil for walks of the resolver's own (priming,
	// prefetch).
	client *dns.Question
	// sharedAsked: the shared cache was asked for the client's question;
	// sharedHit: it answered it.
	sharedAsked, sharedHit bool
	// do and cd are the DNSSEC bits of the client's query; the answers
	// to its own question and chain are cached under them.
	do, cd bool
	// refresh is the question whose cached answer this walk replaces (a
	// prefetch): it is asked upstream even though the cache holds it.
	refresh *dns.Question
	// plain: ask without EDNS, the servers of a zone having all been
	// silent to EDNS queries.
	plain bool
	// recursive: the servers asked are forwarders (recursion desired).
	recursive bool
	// keyFetch: the walk is fetching a DS or DNSKEY RRset for the chain
	// of trust, which keysFor validates itself (validate.go).
	keyFetch bool
	// budget bounds the walk's DNSSEC work; made when first needed.
	budget *dnssec.Budget
	// keys and nsecs are the validated keys and NSEC records the walk
	// uses: the resolver's, or for a walk with a cache of its own (a cold
	// trace) empty ones of its own, so that it starts as cold.
	keys  *keyCache
	nsecs *nsecCache
	// dnskeys is the DNSKEY reply being checked, when the client asked
	// for a zone's keys: the chain of trust takes them from it.
	dnskeys *heldKeys
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
	w.keys, w.nsecs = &r.keys, &r.nsecs
	if c, ok := ContextCache(ctx); ok {
		w.cache = optionalCache{c}
		w.privateCache = true
		w.keys, w.nsecs = &keyCache{entries: make(map[string]keyEntry)}, &nsecCache{}
	}
	return w
}

// query is q as the cache files it: with the client's DNSSEC bits for the
// client's own chain, without them for the walk's sub-resolutions.
func (w *walk) query(q dns.Question) Query {
	if w.keyFetch {
		// With their signatures, which keysFor checks, and filed as not
		// validated, as a CD query's answer is.
		return Query{Question: q, DO: true, CD: true}
	}
	if w.depth > 0 {
		return Query{Question: q}
	}
	return Query{Question: q, DO: w.do, CD: w.cd}
}

// refreshing reports whether q is the question this walk refreshes.
func (w *walk) refreshing(q dns.Question) bool {
	return w.refresh != nil && flightKey(q) == *w.refresh
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
	result.AuthenticatedData = true // until a link is not secure
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
		if loopsWithin(reply.Answer, name) {
			return nil, fmt.Errorf("%w: CNAME chain from %s loops within one reply", ErrLoop, hop.Name)
		}
		result.Answer = append(result.Answer, reply.Answer...)
		result.Ns = reply.Ns
		result.Rcode = reply.Rcode
		result.AuthenticatedData = result.AuthenticatedData && reply.AuthenticatedData

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

// loopsWithin reports whether the CNAMEs of rrs, followed from name, come
// back to a name already passed: a loop one reply holds whole, which
// chainEnd would otherwise take for the end of the chain.
func loopsWithin(rrs []dns.RR, name string) bool {
	seen := map[string]bool{canonical(name): true}
	for range len(rrs) {
		next := ""
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
				next = c.Target
				break
			}
		}
		if next == "" {
			return false
		}
		if seen[canonical(next)] {
			return true
		}
		seen[canonical(next)] = true
		name = next
	}
	return false
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
// With QNAME minimisation on, each zone is first asked about only one
// label more than it is known to hold (see qmin.go).
func (w *walk) lookup(ctx context.Context, q dns.Question) (*dns.Msg, error) {
	if local := w.r.local.Load(); local != nil && local.zones != nil {
		if m, zone, ok := local.zones.Answer(q); ok {
			if w.tracing() {
				w.emit(ctx, Event{Kind: EventLocal, Question: q, Zone: zone, Reply: m})
			}
			return m, nil
		}
	}
	if w.keyFetch {
		// The chain of trust's own lookups are the resolver's bookkeeping,
		// not answers: they are not counted as hits or misses.
		if m, ok := w.cache.known(w.query(q), w.r.clock.Now()); ok {
			return m, nil
		}
	} else if !w.refreshing(q) {
		if m, refresh, ok := w.cache.lookupAnswer(w.query(q), w.r.clock.Now()); ok {
			if w.tracing() {
				w.emit(ctx, Event{Kind: EventCacheHit, Question: q, Reply: m})
			}
			if refresh && w.r.prefetch && !w.privateCache {
				w.r.startPrefetch(w.query(q))
			}
			return m, nil
		}
		if m, ok := w.sharedAnswer(ctx, q); ok {
			return m, nil
		}
	}
	if m, above := w.nxdomainCut(q); m != nil {
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventCacheHit, Question: q, Reply: m, Target: "NXDOMAIN for " + above})
		}
		return m, nil
	}
	if fz := zoneFor(w.r.forward, q.Name); fz != nil {
		return w.forward(ctx, fz, q)
	}
	if m, ok := w.aggressiveNXDOMAIN(ctx, q); ok {
		return m, nil
	}
	dp, source := w.startDelegation(ctx, q)
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventStart, Question: q, Zone: dp.zone, Target: source})
	}
	qm := newMinimiser(q, dp.zone, w.r.qmin && !dp.configured)
	referrals := 0
	for range maxReferralDepth + maxMinimiseCount + 1 {
		ask, minimised := qm.next()
		if minimised {
			if out, ok := w.cachedStep(ctx, ask); ok {
				qm.learned(out) // known from an earlier walk: nothing to ask
				continue
			}
		}
		out, err := w.askZone(ctx, dp, ask)
		if err != nil {
			if minimised && !stop(ctx, err) {
				qm.off() // RFC 9156 section 3: errors on minimised queries: ask the full name
				continue
			}
			return nil, err
		}
		if out.kind == kindReferral {
			if referrals++; referrals > maxReferralDepth {
				break
			}
			w.cache.storeDelegation(out.next, w.r.clock.Now())
			dp = out.next
			qm.enter(dp.zone)
			continue
		}
		if !minimised {
			if err := w.check(ctx, q, out, dp.zone); err != nil {
				return nil, err
			}
			// Name errors are cached by name alone, for every walk: one a
			// validating resolver has not checked (CD, or the chain of
			// trust's own fetches) must not stand for the others.
			if out.kind == kindNXDOMAIN && !hasAlias(out.msg) && !w.unchecked() {
				w.storeNXDOMAIN(q, out.msg)
			}
			return w.cache.storeAnswer(w.query(q), out.msg, w.r.clock.Now()), nil
		}
		if w.check(ctx, ask, out, dp.zone) == nil {
			_ = w.cache.storeAnswer(w.query(ask), out.msg, w.r.clock.Now()) // true data about ask, kept for later
		}
		qm.learned(out)
	}
	return nil, fmt.Errorf("%w: more than %d referrals for %s", ErrBudgetExceeded, maxReferralDepth, q.Name)
}

// cachedStep returns what the cache knows of a minimised question, as the
// outcome its zone's servers gave when they were asked, so that a flood of
// names below one node is not asked about that node again for each.
func (w *walk) cachedStep(ctx context.Context, ask dns.Question) (outcome, bool) {
	m, ok := w.cache.known(w.query(ask), w.r.clock.Now())
	if !ok {
		return outcome{}, false
	}
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventCacheHit, Question: ask, Reply: m})
	}
	switch {
	case m.Rcode == dns.RcodeNameError:
		return outcome{kind: kindNXDOMAIN, msg: m}, true
	case len(m.Answer) == 0:
		return outcome{kind: kindNODATA, msg: m}, true
	}
	return outcome{kind: kindAnswer, msg: m}, true
}

// startDelegation returns the deepest cached zone cut above q's name, or
// the root, and says where it came from. A DS record lives on the parent
// side of a zone cut (RFC 4035 section 3.1.4.1), so its walk starts above
// the name itself. When the root's NS RRset has expired from the cache of
// a resolver that was primed before, it is primed again first (RFC 8109
// section 3); if that fails, the hints serve. A walk with a cache of its
// own starts cold, from the hints, as a fresh resolver would.
func (w *walk) startDelegation(ctx context.Context, q dns.Question) (*delegation, string) {
	name := canonical(q.Name)
	if q.Qtype == dns.TypeDS {
		name = parentZone(name)
	}
	now := w.r.clock.Now()
	for {
		if d, ok := w.r.stub[name]; ok {
			return d, "stub"
		}
		if m, ok := w.cache.lookupDelegation(name, now); ok {
			if d := delegationFromMsg(name, m); d.reachable() {
				return d, "cache"
			}
		}
		if name == "." {
			break
		}
		name = parentZone(name)
	}
	if w.r.Primed() && !w.priming && !w.privateCache {
		w.priming = true
		err := w.prime(ctx)
		w.priming = false
		if err == nil {
			if m, ok := w.cache.lookupDelegation(".", w.r.clock.Now()); ok {
				if d := delegationFromMsg(".", m); d.reachable() {
					return d, "cache"
				}
			}
		}
	}
	return hintsDelegation(w.r.hints), "hints"
}

// askZone asks the servers of dp about q until one gives a usable reply:
// an answer, a negative answer, or a referral. Servers with usable
// addresses go first, best first by what the infrastructure cache knows;
// glueless ones are resolved only when those fail, at most
// maxNSAddressLookups of them per zone (the NXNS bound).
func (w *walk) askZone(ctx context.Context, dp *delegation, q dns.Question) (outcome, error) {
	var (
		failures []error
		glueless []NameServer
		cands    []selection.Candidate
	)
	for _, ns := range dp.servers {
		addrs := ns.Addrs
		if !dp.configured {
			addrs = w.r.usable(ns.Addrs)
		}
		if len(addrs) == 0 {
			// Glueless, or the glue holds only addresses we may not use.
			glueless = append(glueless, ns)
			continue
		}
		for _, a := range addrs {
			cands = append(cands, selection.Candidate{Server: ns.Name, To: netip.AddrPortFrom(a, w.r.portOf(ns))})
		}
	}
	out, ok, timedOut, err := w.tryServers(ctx, dp.zone, q, cands, &failures)
	if ok || err != nil {
		return out, err
	}
	if timedOut {
		// Every server was silent. Some drop queries that carry EDNS;
		// ask each once more without it (RFC 6891 section 7; since DNS
		// Flag Day 2019 most resolvers no longer do, but a zone that can
		// only be reached this way is better reached).
		w.plain = true
		out, ok, _, err = w.tryServers(ctx, dp.zone, q, cands, &failures)
		w.plain = false
		if ok || err != nil {
			return out, err
		}
	}
	shuffle(w.r, glueless)
	for i, ns := range glueless {
		if i == maxNSAddressLookups {
			// The NXNS bound: a referral to many glueless servers must not
			// make the resolver send many queries for it.
			if w.tracing() {
				rest := make([]string, 0, len(glueless)-i)
				for _, r := range glueless[i:] {
					rest = append(rest, r.Name)
				}
				w.emit(ctx, Event{Kind: EventSkip, Question: q, Zone: dp.zone, Target: strings.Join(rest, ", "),
					Err: fmt.Errorf("%w: %d glueless servers of %s already looked up", ErrBudgetExceeded, maxNSAddressLookups, dp.zone)})
			}
			break
		}
		addrs, err := w.addresses(ctx, ns.Name)
		if err != nil {
			if stop(ctx, err) {
				return outcome{}, err
			}
			failures = append(failures, fmt.Errorf("%s: %w", ns.Name, err))
			if w.tracing() {
				w.emit(ctx, Event{Kind: EventSkip, Question: q, Zone: dp.zone, Target: ns.Name, Err: err})
			}
			continue
		}
		cands = cands[:0]
		for _, a := range addrs {
			cands = append(cands, selection.Candidate{Server: ns.Name, To: netip.AddrPortFrom(a, w.r.portOf(ns))})
		}
		if out, ok, _, err := w.tryServers(ctx, dp.zone, q, cands, &failures); ok || err != nil {
			return out, err
		}
	}
	if len(failures) == 0 {
		failures = append(failures, errors.New("no server with a usable address"))
	}
	return outcome{}, fmt.Errorf("%w for %s: %w", ErrNoReachableAuthority, zoneName(dp.zone), joinErrors(failures...))
}

// tryServers asks the candidates in the infrastructure cache's order until
// one gives a usable reply (ok). A lame server is remembered as lame for
// the zone. timedOut reports that every candidate timed out. err is set
// only when the whole walk must stop.
func (w *walk) tryServers(ctx context.Context, zone string, q dns.Question, cands []selection.Candidate, failures *[]error) (out outcome, ok, timedOut bool, err error) {
	shuffle(w.r, cands)
	w.r.infra.Order(cands, zone, w.r.clock.Now(), w.r.randIntN)
	timedOut = len(cands) > 0
	for _, c := range cands {
		out, err := w.askShared(ctx, zone, c.Server, c.To, q)
		if err != nil {
			if stop(ctx, err) {
				return outcome{}, false, false, err
			}
			timedOut = timedOut && errors.Is(err, ErrTimeout)
			*failures = append(*failures, fmt.Errorf("%s (%s): %w", c.Server, c.To, err))
			continue
		}
		timedOut = false
		switch out.kind {
		case kindLame:
			w.r.infra.MarkLame(c.To.Addr(), zone, w.r.clock.Now())
			*failures = append(*failures, fmt.Errorf("%s (%s): %w: %s", c.Server, c.To, ErrLameDelegation, out.why))
		case kindFailure:
			*failures = append(*failures, fmt.Errorf("%s (%s): %s", c.Server, c.To, out.why))
		default:
			if w.plain {
				w.r.infra.MarkNoEDNS(c.To.Addr(), w.r.clock.Now())
			}
			return out, true, false, nil
		}
	}
	return outcome{}, false, timedOut, nil
}

// zoneName is how errors name a zone: "." reads badly in a sentence.
func zoneName(zone string) string {
	if zone == "." {
		return "the root"
	}
	return zone
}

// errOutOfQueries is the walk's upstream query budget running out.
var errOutOfQueries = fmt.Errorf("%w: %d upstream queries", ErrBudgetExceeded, maxUpstreamQueries)

// stop reports whether err ends the whole walk rather than one server's
// turn: the query budget is spent or the caller gave up.
func stop(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, errOutOfQueries)
}

// storeNXDOMAIN remembers that q's name does not exist, for every type and
// every name below it (RFC 8020). Only a full, non-minimised question's
// NXDOMAIN is trusted that far.
func (w *walk) storeNXDOMAIN(q dns.Question, m *dns.Msg) {
	w.cache.storeNameError(q.Name, m, w.r.clock.Now())
}

// nxdomainCut answers q with NXDOMAIN when the cache knows that q's name,
// or a name above it, does not exist (RFC 8020, "NXDOMAIN: There Really
// Is Nothing Underneath"). It returns the name known not to exist.
func (w *walk) nxdomainCut(q dns.Question) (*dns.Msg, string) {
	now := w.r.clock.Now()
	for name := canonical(q.Name); name != "."; name = parentZone(name) {
		m, ok := w.cache.lookupNameError(name, now)
		if !ok || (w.do && !hasDenial(m.Ns)) {
			// A DO walk needs the proof, which a walk without DO did
			// not keep: it asks again, and stores the name error with it.
			continue
		}
		cut := &dns.Msg{Ns: m.Ns}
		cut.AuthenticatedData = m.AuthenticatedData // its proof covers the names below it too
		if !w.do {
			// Name errors are cached by name alone: what a DO walk
			// stored carries its NSEC or NSEC3 proof.
			cut.Ns = withoutDNSSEC(cut.Ns)
		}
		cut.Rcode = dns.RcodeNameError
		return cut, name
	}
	return nil, ""
}

// forward asks a forward zone's resolvers about q, with recursion desired,
// and takes their word for the whole answer.
func (w *walk) forward(ctx context.Context, fz *delegation, q dns.Question) (*dns.Msg, error) {
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventStart, Question: q, Zone: fz.zone, Target: "forward"})
	}
	w.recursive = true
	out, err := w.askZone(ctx, fz, q)
	w.recursive = false
	if err != nil {
		return nil, err
	}
	if out.kind == kindNXDOMAIN && !hasAlias(out.msg) {
		w.storeNXDOMAIN(q, out.msg)
	}
	return w.cache.storeAnswer(w.query(q), out.msg, w.r.clock.Now()), nil
}
