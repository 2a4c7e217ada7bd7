package resolver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/internal/anchors"
	"github.com/rootwalk/rootwalk/resolver/internal/dnssec"
)

// DNSSEC validation (RFC 4033-4035, RFC 5155), on when the resolver has
// trust anchors. Every upstream query then carries DO, and each answer a
// zone gives to a client's question (its data, a CNAME or DNAME link, a
// name error or NODATA) is checked before it is cached:
//
//   - The signer is the zone named by the answer's RRSIGs, which must be
//     the zone asked or below it; an answer with no RRSIG is judged by the
//     zone asked.
//   - That zone's keys come from the chain of trust (keysFor): its DNSKEY
//     RRset, vouched for by a trust anchor or by a DS RRset that its
//     parent's keys signed, and so on up to an anchor. A parent that
//     proves there is no DS (NSEC or NSEC3, opt-out included) makes the
//     zone and everything below it insecure; so does a zone no anchor is
//     above, and one whose DS records name only algorithms or digests
//     rootwalk does not validate (RFC 8624). Validated keys, and
//     insecure verdicts, are kept for their TTL (keyCache).
//   - Each RRset must carry an RRSIG that verifies with those keys within
//     its validity window; a wildcard expansion, a name error and a
//     NODATA need their NSEC or NSEC3 proof too (dnssec.Prove*).
//
// A secure answer is cached with the AD bit set; an insecure one without;
// a bogus one is not cached: the resolution fails with a *BogusError,
// which says why in Extended DNS Error terms. A query with CD (checking
// disabled) is not validated: its answer, cached under its own key, is
// whatever the servers said. The DS and DNSKEY RRsets the chain needs are
// fetched by sub-resolutions of the walk that are not themselves
// validated (keysFor does that), cached under DO like a client's, with
// their signatures. Each walk has one work budget (dnssec.Budget) against
// KeyTrap and NSEC3 floods.

// bogusTTL is how long a zone whose keys could not be validated is
// remembered as such before the chain is tried again (Unbound's
// val-bogus-ttl: 60 s).
const bogusTTL = time.Minute

// insecureTTLCap bounds how long a zone proven unsigned is remembered: a
// parent may sign its delegation later.
const insecureTTLCap = time.Hour

// BogusError is a resolution that failed DNSSEC validation: its data is
// not what the zone signed, or the chain of trust to it is broken.
type BogusError struct {
	Zone   string // the zone whose data or keys failed
	Code   uint16 // the Extended DNS Error INFO-CODE (RFC 8914)
	Detail string
}

func (e *BogusError) Error() string {
	return fmt.Sprintf("DNSSEC validation failed in %s: %s", e.Zone, e.Detail)
}

// ErrBogus matches every *BogusError with errors.Is.
var ErrBogus = errors.New("DNSSEC bogus")

// Is makes errors.Is(err, ErrBogus) true for a *BogusError.
func (e *BogusError) Is(target error) bool { return target == ErrBogus }

// ParseTrustAnchors reads DNSSEC trust anchors in master-file form (DS or
// DNSKEY records, as Unbound's trust-anchor-file); file names the source
// in errors.
func ParseTrustAnchors(r io.Reader, file string) ([]dns.RR, error) {
	s, err := anchors.Parse(r, file)
	if err != nil {
		return nil, fmt.Errorf("trust anchors: %w", err)
	}
	return s.Records(), nil
}

// IANATrustAnchors returns the root's trust anchors as IANA publishes
// them (KSK-2017 and KSK-2024), for use with IANA's root hints.
func IANATrustAnchors() []dns.RR { return anchors.IANARoot().Records() }

// maxSigCache bounds the verified signatures the resolver remembers
// (dnssec.SigCache): each costs a map slot, about 64 bytes.
const maxSigCache = 100_000

// maxKeyEntries bounds the zones whose keys are kept: a flood of names in
// fresh zones must not grow the map without end. Past it, expired entries
// go first, then arbitrary ones.
const maxKeyEntries = 10_000

// keyCache holds the verdicts of keysFor by zone.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]keyEntry
}

// keyEntry is what the chain of trust found for one zone until expires:
// its validated keys, or that it is insecure, or why it is bogus.
type keyEntry struct {
	keys     []*dns.DNSKEY
	insecure bool
	err      *BogusError
	expires  time.Time
	how      string // how the verdict was reached, for traces
}

func (c *keyCache) get(zone string, now time.Time) (keyEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[zone]
	if !ok || !now.Before(e.expires) {
		return keyEntry{}, false
	}
	return e, true
}

func (c *keyCache) put(zone string, e keyEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxKeyEntries {
		for z, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, z)
			}
		}
		for z := range c.entries { // map order: an arbitrary tenth
			if len(c.entries) < maxKeyEntries*9/10 {
				break
			}
			delete(c.entries, z)
		}
	}
	c.entries[zone] = e
}

// validating reports whether the walk checks the answers it gets: the
// resolver has anchors, the client did not set CD, the servers are not
// forwarders (whose answers come with no chain to follow yet), and this
// is not a fetch of the chain's own records.
func (w *walk) validating() bool {
	return w.r.anchors != nil && !w.cd && !w.recursive && !w.keyFetch
}

// unchecked reports whether the walk, in a validating resolver, gets
// answers it does not check: for a client that set CD, or as the chain of
// trust's own fetches.
func (w *walk) unchecked() bool { return w.r.anchors != nil && (w.cd || w.keyFetch) }

// upstreamDO reports whether queries go upstream with DO: for a client
// that set it, and whenever the resolver validates.
func (w *walk) upstreamDO() bool { return w.do || w.r.anchors != nil }

// budget returns the walk's validation work budget.
func (w *walk) workBudget() *dnssec.Budget {
	if w.budget == nil {
		w.budget = dnssec.NewBudget(dnssec.MaxSignatureValidations, dnssec.MaxNSEC3Hashes).WithCache(w.r.sigs)
	}
	return w.budget
}

// verdict is what validation made of one answer.
type verdict uint8

const (
	verdictSecure verdict = iota
	verdictInsecure
)

// bogus turns a failed check into a *BogusError, unless its reason makes
// the data insecure instead, which it reports with a nil error.
func bogus(zone string, err error) (verdict, error) {
	reason, ok := dnssec.ReasonOf(err)
	if ok && reason.Insecure() {
		return verdictInsecure, nil
	}
	code := dns.ExtendedErrorCodeDNSBogus
	if ok {
		code = reason.EDE()
	}
	var be *BogusError
	if errors.As(err, &be) {
		return 0, be
	}
	return 0, &BogusError{Zone: zone, Code: code, Detail: err.Error()}
}

// underNTA reports whether name is at or below a negative trust anchor.
func (r *Resolver) underNTA(name string) bool {
	for _, nta := range r.ntas {
		if dns.IsSubDomain(nta, name) {
			return true
		}
	}
	return false
}

// sigTime is the time signatures' validity is checked against.
func (w *walk) sigTime() time.Time {
	if !w.r.valTime.IsZero() {
		return w.r.valTime
	}
	return w.r.clock.Now()
}

// validate checks out, the answer the servers of zone gave to q.
func (w *walk) validate(ctx context.Context, q dns.Question, out outcome, zone string) (v verdict, err error) {
	m := out.msg
	signer := signerOf(m, zone)
	// What a trace says was checked: built only when someone looks.
	tracing := w.tracing()
	how, signed := "the zone's keys", []string(nil)
	note := func(what, proof string) {
		if tracing {
			how += what + proof
		}
	}
	if tracing {
		defer func() {
			if len(signed) > 0 {
				how = "RRSIGs over " + strings.Join(signed, ", ") + strings.TrimPrefix(how, "RRSIGs")
			}
			w.traceAnswer(ctx, q, signer, how, v, err)
		}()
	}
	if w.r.underNTA(q.Name) || w.r.underNTA(signer) {
		how = "a negative trust anchor"
		return verdictInsecure, nil // RFC 7646: as if unsigned
	}
	if q.Qtype == dns.TypeDNSKEY {
		// The answer is the zone's own DNSKEY RRset: following the chain
		// of trust to the zone's keys would ask for it again, inside the
		// walk that is asking for it (a loop). It is checked against the
		// parent's DS as a fetched one would be.
		saved := w.dnskeys
		w.dnskeys = &heldKeys{zone: canonical(q.Name), msg: m}
		defer func() { w.dnskeys = saved }()
	}
	keys, err := w.keysFor(ctx, signer)
	if err != nil {
		return 0, err
	}
	if keys.insecure {
		how = "an insecure zone"
		return verdictInsecure, nil
	}
	now := w.sigTime()
	b := w.workBudget()
	sets, sigs := splitRRsets(m.Answer)
	var wildcards [][2]string     // name, wildcard
	ttl := uint32(math.MaxUint32) // RFC 4035 section 5.3.3: no longer than the signatures hold
	how = "RRSIGs"
	for _, set := range sets {
		if synthesizedCNAME(m.Answer, set[0]) {
			continue // made from a DNAME, which is what was signed (RFC 6672 section 5.3.1)
		}
		v, err := dnssec.VerifyRRset(set, sigs[rrsetKey(set[0])], keys.keys, signer, now, b)
		if err != nil {
			return bogus(signer, err)
		}
		ttl = min(ttl, v.TTL)
		if v.Wildcard != "" {
			wildcards = append(wildcards, [2]string{set[0].Header().Name, v.Wildcard})
		}
		if tracing {
			signed = append(signed, dns.TypeToString[set[0].Header().Rrtype])
		}
	}
	nsec, nsec3, denialTTL, err := w.verifiedDenial(m.Ns, keys.keys, signer, now, b)
	if err != nil {
		return bogus(signer, err)
	}
	ttl = min(ttl, denialTTL)
	optOut := false
	proof := denialKind(nsec, false)
	for _, wc := range wildcards {
		note(", the wildcard expansion proven by ", proof)
		o, err := dnssec.ProveWildcardAnswer(wc[0], wc[1], signer, nsec, nsec3, b)
		if err != nil {
			return bogus(signer, err)
		}
		optOut = optOut || o
	}
	last := chainTarget(m.Answer, q.Name)
	switch out.kind {
	case kindNXDOMAIN:
		note(", the name error proven by ", proof)
		optOut, err = dnssec.ProveNameError(last, signer, nsec, nsec3, b)
	case kindNODATA:
		note(", NODATA proven by ", proof)
		optOut, err = dnssec.ProveNoData(last, q.Qtype, signer, nsec, nsec3, b)
	}
	if err != nil {
		return bogus(signer, err)
	}
	if optOut {
		note(" (an opt-out span)", "")
		return verdictInsecure, nil // RFC 5155 section 9.2: no AD through an opt-out span
	}
	capTTLs(m, ttl)
	if out.kind == kindNXDOMAIN || out.kind == kindNODATA {
		w.nsecs.keep(signer, m, nsec, w.r.clock.Now()) // for other names in their spans (aggressive.go)
	}
	return verdictSecure, nil
}

// capTTLs lowers the TTL of every record of m above ttl to ttl: a secure
// answer is kept no longer than its RRSIGs' original TTLs and validity
// allow (RFC 4035 section 5.3.3).
func capTTLs(m *dns.Msg, ttl uint32) {
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range rrs {
			if h := rr.Header(); h.Ttl > ttl {
				h.Ttl = ttl
			}
		}
	}
}

// verifiedDenial checks the SOA and every NSEC and NSEC3 record of the
// authority section rrs and returns the NSEC and NSEC3 records.
func (w *walk) verifiedDenial(rrs []dns.RR, keys []*dns.DNSKEY, zone string, now time.Time, b *dnssec.Budget) ([]*dns.NSEC, []*dns.NSEC3, uint32, error) {
	sets, sigs := splitRRsets(rrs)
	var nsec []*dns.NSEC
	var nsec3 []*dns.NSEC3
	ttl := uint32(math.MaxUint32)
	for _, set := range sets {
		switch set[0].Header().Rrtype {
		case dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3:
		default:
			continue
		}
		v, err := dnssec.VerifyRRset(set, sigs[rrsetKey(set[0])], keys, zone, now, b)
		if err != nil {
			return nil, nil, 0, err
		}
		ttl = min(ttl, v.TTL)
		if v.Wildcard != "" {
			continue // an expanded NSEC says nothing of the name it was expanded to
		}
		for _, rr := range set {
			switch rr := rr.(type) {
			case *dns.NSEC:
				nsec = append(nsec, rr)
			case *dns.NSEC3:
				nsec3 = append(nsec3, rr)
			}
		}
	}
	return nsec, nsec3, ttl, nil
}

// keysFor returns the validated keys of zone, or that it is insecure, or
// why its keys cannot be trusted.
func (w *walk) keysFor(ctx context.Context, zone string) (keyEntry, error) {
	zone = canonical(zone)
	now := w.r.clock.Now()
	if e, ok := w.keys.get(zone, now); ok {
		if e.err != nil {
			return keyEntry{}, e.err
		}
		return e, nil
	}
	e, ttl := w.chain(ctx, zone)
	if e.err != nil {
		if stop(ctx, e.err) {
			return keyEntry{}, e.err // cut short: nothing learned
		}
		ttl = bogusTTL
	}
	e.expires = now.Add(ttl)
	w.keys.put(zone, e, now)
	w.traceKeys(ctx, zone, e)
	if e.err != nil {
		return keyEntry{}, e.err
	}
	return e, nil
}

// traceKeys reports the chain of trust's verdict on zone's keys.
func (w *walk) traceKeys(ctx context.Context, zone string, e keyEntry) {
	if !w.tracing() {
		return
	}
	ev := Event{Kind: EventDNSSEC, Zone: zone, Target: "keys: " + e.how, Outcome: "secure"}
	switch {
	case e.err != nil:
		ev.Outcome, ev.Err = "bogus", e.err
	case e.insecure:
		ev.Outcome = "insecure"
	}
	w.emit(ctx, ev)
}

// traceAnswer reports the validator's verdict on the answer to q.
func (w *walk) traceAnswer(ctx context.Context, q dns.Question, zone, how string, v verdict, err error) {
	if !w.tracing() {
		return
	}
	ev := Event{Kind: EventDNSSEC, Question: q, Zone: zone, Target: "answer: " + how, Outcome: "secure"}
	switch {
	case err != nil:
		ev.Outcome, ev.Err = "bogus", err
	case v == verdictInsecure:
		ev.Outcome = "insecure"
	}
	w.emit(ctx, ev)
}

// chain follows the chain of trust to zone's keys, and says for how long
// its verdict holds.
func (w *walk) chain(ctx context.Context, zone string) (keyEntry, time.Duration) {
	now := w.sigTime()
	if w.r.underNTA(zone) {
		return keyEntry{insecure: true, how: "a negative trust anchor"}, insecureTTLCap // RFC 7646
	}
	top, ok := w.r.anchors.Closest(zone)
	if !ok {
		return keyEntry{insecure: true, how: "no trust anchor above"}, insecureTTLCap
	}
	if top == zone {
		set := w.r.anchors
		if zone == "." && w.r.root != nil {
			set = w.r.root.Trusted() // kept current by RFC 5011
		}
		ds, anchorKeys := set.For(zone)
		return w.zoneKeys(ctx, zone, ds, anchorKeys, now, "trust anchor")
	}
	reply, err := w.fetch(ctx, dns.Question{Name: zone, Qtype: dns.TypeDS, Qclass: dns.ClassINET})
	if err != nil {
		return keyEntry{err: chainBroken(zone, err)}, 0
	}
	parent := dsParent(reply, zone, top)
	pk, err := w.keysFor(ctx, parent)
	if err != nil {
		return keyEntry{err: chainBroken(parent, err)}, 0
	}
	if pk.insecure {
		return keyEntry{insecure: true, how: "below the insecure " + parent}, min(pk.expires.Sub(w.r.clock.Now()), insecureTTLCap)
	}
	b := w.workBudget()
	sets, sigs := splitRRsets(reply.Answer)
	var ds []*dns.DS
	for _, set := range sets {
		if set[0].Header().Rrtype != dns.TypeDS || !strings.EqualFold(set[0].Header().Name, zone) {
			continue
		}
		if _, err := dnssec.VerifyRRset(set, sigs[rrsetKey(set[0])], pk.keys, parent, now, b); err != nil {
			return chainFailure(parent, err)
		}
		for _, rr := range set {
			ds = append(ds, rr.(*dns.DS))
		}
	}
	if len(ds) > 0 {
		return w.zoneKeys(ctx, zone, ds, nil, now, "DS signed by "+parent)
	}
	// No DS: the parent must prove it (RFC 4035 section 5.2).
	nsec, nsec3, _, err := w.verifiedDenial(reply.Ns, pk.keys, parent, now, b)
	optOut := false
	if err == nil {
		optOut, err = dnssec.ProveInsecureDelegation(zone, parent, nsec, nsec3, b)
	}
	if err != nil {
		return chainFailure(parent, err)
	}
	return keyEntry{insecure: true, how: "no DS: " + parent + " proves it by " + denialKind(nsec, optOut)}, insecureTTL(reply)
}

// denialKind names the records a proof used, for traces.
func denialKind(nsec []*dns.NSEC, optOut bool) string {
	switch {
	case len(nsec) > 0:
		return "NSEC"
	case optOut:
		return "an NSEC3 opt-out span"
	}
	return "NSEC3"
}

// zoneKeys fetches zone's DNSKEY RRset and keeps the keys that ds or the
// anchor keys vouch for.
func (w *walk) zoneKeys(ctx context.Context, zone string, ds []*dns.DS, anchorKeys []*dns.DNSKEY, now time.Time, via string) (keyEntry, time.Duration) {
	var reply *dns.Msg
	if h := w.dnskeys; h != nil && h.zone == zone {
		reply = h.msg
	} else {
		var err error
		if reply, err = w.fetch(ctx, dns.Question{Name: zone, Qtype: dns.TypeDNSKEY, Qclass: dns.ClassINET}); err != nil {
			return keyEntry{err: chainBroken(zone, err)}, 0
		}
	}
	var dnskeys []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range reply.Answer {
		switch rr := rr.(type) {
		case *dns.DNSKEY:
			if strings.EqualFold(rr.Hdr.Name, zone) {
				dnskeys = append(dnskeys, rr)
			}
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeDNSKEY && strings.EqualFold(rr.Hdr.Name, zone) {
				sigs = append(sigs, rr)
			}
		}
	}
	keys, v, err := dnssec.TrustedKeys(zone, dnskeys, sigs, ds, anchorKeys, now, w.workBudget())
	if zone == "." && w.r.root != nil {
		w.observeRoot(ctx, dnskeys, sigs)
	}
	if err != nil {
		e, ttl := chainFailure(zone, err)
		e.how = via + " → DNSKEY: algorithms not validated"
		return e, ttl
	}
	return keyEntry{keys: keys, how: fmt.Sprintf("%s → DNSKEY (%s, %d keys)", via, algorithms(keys), len(keys))},
		time.Duration(v.TTL) * time.Second
}

// heldKeys is a zone's DNSKEY reply that the walk holds while it checks
// it (see validate).
type heldKeys struct {
	zone string // canonical
	msg  *dns.Msg
}

// algorithms lists the algorithms of keys, for traces.
func algorithms(keys []*dns.DNSKEY) string {
	var names []string
	for _, k := range keys {
		if n := dns.AlgorithmToString[k.Algorithm]; !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// observeRoot hands the root's DNSKEY RRset, as fetched, to its RFC 5011
// tracker, which checks it itself: new keys start their hold-down,
// revoked ones are dropped, and the state file follows.
func (w *walk) observeRoot(ctx context.Context, dnskeys []dns.RR, sigs []*dns.RRSIG) {
	keys := make([]*dns.DNSKEY, 0, len(dnskeys))
	for _, rr := range dnskeys {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	if err := w.r.root.Observe(keys, sigs); err != nil && !errors.Is(err, anchors.ErrNotValidated) {
		w.r.log.WarnContext(ctx, "root trust anchor tracking (RFC 5011)", "err", err)
	}
}

// chainFailure is a keyEntry for a chain that broke at zone: insecure
// when the reason says so (an algorithm rootwalk does not validate),
// bogus otherwise.
func chainFailure(zone string, err error) (keyEntry, time.Duration) {
	if _, berr := bogus(zone, err); berr != nil {
		var be *BogusError
		errors.As(berr, &be)
		return keyEntry{err: be}, 0
	}
	return keyEntry{insecure: true, how: "only algorithms or digests rootwalk does not validate"}, insecureTTLCap
}

// chainBroken is the error of a chain that could not fetch what it needed.
func chainBroken(zone string, err error) *BogusError {
	var be *BogusError
	if errors.As(err, &be) {
		return be
	}
	return &BogusError{Zone: zone, Code: dns.ExtendedErrorCodeDNSKEYMissing,
		Detail: fmt.Sprintf("the chain of trust to %s could not be followed: %v", zone, err)}
}

// insecureTTL is how long the proof that a zone is unsigned holds: the
// TTL of the records of the reply that proved it, at most insecureTTLCap.
func insecureTTL(reply *dns.Msg) time.Duration {
	ttl := insecureTTLCap
	for _, rr := range reply.Ns {
		ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
	}
	return max(ttl, time.Second)
}

// fetch resolves q, one of the chain of trust's own records, with its
// signatures and without validating it: keysFor checks it, and its verdict
// follows the fetch's steps in a trace.
func (w *walk) fetch(ctx context.Context, q dns.Question) (*dns.Msg, error) {
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventSubResolve, Question: q, Target: q.Name, Outcome: "dnssec"})
	}
	saved := w.keyFetch
	w.keyFetch = true
	w.depth++
	defer func() { w.keyFetch = saved; w.depth-- }()
	m, err := w.resolveGuarded(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", q.Name, dns.TypeToString[q.Qtype], err)
	}
	return m, nil
}

// dsParent returns the zone that answered for zone's DS RRset: the signer
// of the reply's RRSIGs, or its SOA's owner, when that is strictly above
// zone and at or below top, its trust anchor; else the name one label up.
func dsParent(reply *dns.Msg, zone, top string) string {
	above := func(name string) bool {
		name = canonical(name)
		return name != zone && dns.IsSubDomain(name, zone) && dns.IsSubDomain(top, name)
	}
	for _, rrs := range [][]dns.RR{reply.Answer, reply.Ns} {
		for _, rr := range rrs {
			if sig, ok := rr.(*dns.RRSIG); ok && above(sig.SignerName) {
				return canonical(sig.SignerName)
			}
		}
	}
	for _, rr := range reply.Ns {
		if soa, ok := rr.(*dns.SOA); ok && above(soa.Hdr.Name) {
			return canonical(soa.Hdr.Name)
		}
	}
	return parentZone(zone)
}

// signerOf returns the zone whose RRSIGs sign m, when it is at or below
// zone, the zone asked; zone itself otherwise (no RRSIG, or one from
// elsewhere, which the checks will then refuse).
func signerOf(m *dns.Msg, zone string) string {
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range rrs {
			if sig, ok := rr.(*dns.RRSIG); ok && dns.IsSubDomain(zone, sig.SignerName) {
				return canonical(sig.SignerName)
			}
		}
	}
	return canonical(zone)
}

// splitRRsets groups rrs into RRsets (RRSIGs aside) and the RRSIGs by the
// RRset they cover, both keyed by rrsetKey.
func splitRRsets(rrs []dns.RR) (sets [][]dns.RR, sigs map[string][]*dns.RRSIG) {
	sigs = make(map[string][]*dns.RRSIG)
	index := make(map[string]int)
	for _, rr := range rrs {
		if sig, ok := rr.(*dns.RRSIG); ok {
			k := canonical(sig.Hdr.Name) + "/" + dns.TypeToString[sig.TypeCovered]
			sigs[k] = append(sigs[k], sig)
			continue
		}
		k := rrsetKey(rr)
		i, ok := index[k]
		if !ok {
			i = len(sets)
			index[k] = i
			sets = append(sets, nil)
		}
		sets[i] = append(sets[i], rr)
	}
	return sets, sigs
}

// rrsetKey names the RRset of rr: owner and type.
func rrsetKey(rr dns.RR) string {
	return canonical(rr.Header().Name) + "/" + dns.TypeToString[rr.Header().Rrtype]
}

// synthesizedCNAME reports whether rr is a CNAME that a DNAME of answer
// stands for (classify makes it; no zone signs it).
func synthesizedCNAME(answer []dns.RR, rr dns.RR) bool {
	c, ok := rr.(*dns.CNAME)
	if !ok {
		return false
	}
	for _, a := range answer {
		if d, ok := a.(*dns.DNAME); ok && dns.IsSubDomain(d.Hdr.Name, c.Hdr.Name) && !strings.EqualFold(d.Hdr.Name, c.Hdr.Name) {
			return true
		}
	}
	return false
}

// chainTarget follows the CNAMEs of answer from name and returns where
// they end: the name a negative answer is about.
func chainTarget(answer []dns.RR, name string) string {
	for range len(answer) {
		moved := false
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
				name, moved = c.Target, true
				break
			}
		}
		if !moved {
			break
		}
	}
	return name
}
