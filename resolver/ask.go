package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/internal/selection"
)

// newQuery builds the query sent upstream for q: a fresh random ID,
// recursion desired only of a forwarder (otherwise we do the recursion),
// and EDNS0 with our buffer size.
func (r *Resolver) newQuery(q dns.Question, edns, recursive, do bool) *dns.Msg {
	m := new(dns.Msg)
	m.Id = r.newID()
	m.Opcode = dns.OpcodeQuery
	m.RecursionDesired = recursive
	m.Question = []dns.Question{q}
	if edns {
		m.SetEdns0(ednsBufferSize, do)
	}
	return m
}

// ask sends q to one server of zone and classifies its reply.
//
// The name goes out in random letter case (0x20, draft-vixie-dnsext-dns0x20)
// and the reply must echo it exactly, which makes a forged reply that much
// harder to guess; a server found not to echo case is asked again in plain
// case and remembered. A server that rejects EDNS with FORMERR or NOTIMP
// is asked again without it (RFC 6891 section 7) and remembered too.
func (w *walk) ask(ctx context.Context, zone, server string, to netip.AddrPort, q dns.Question) (outcome, *dns.Msg, error) {
	addr := to.Addr()
	noCase, noEDNS := w.r.infra.Quirks(addr, w.r.clock.Now())
	noEDNS = noEDNS || w.plain
	sent := q
	if !noCase {
		sent.Name = w.r.randomCase(q.Name)
	}
	resp, err := w.exchange(ctx, zone, server, to, q, sent.Name, !noEDNS)
	if err == nil && !noCase && len(resp.Msg.Question) == 1 && resp.Msg.Question[0].Name != sent.Name {
		w.r.infra.MarkNoCase(addr, w.r.clock.Now())
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventError, Question: q, Zone: zone, Server: server,
				Addr: to, Err: errCaseNotEchoed})
		}
		resp, err = w.exchange(ctx, zone, server, to, q, q.Name, !noEDNS)
	}
	if err == nil && !noEDNS && resp.Msg.IsEdns0() == nil &&
		(resp.Msg.Rcode == dns.RcodeFormatError || resp.Msg.Rcode == dns.RcodeNotImplemented) {
		w.r.infra.MarkNoEDNS(addr, w.r.clock.Now())
		resp, err = w.exchange(ctx, zone, server, to, q, q.Name, false)
	}
	if err != nil {
		return outcome{}, nil, err
	}
	out := w.classify(resp.Msg, q, zone)
	if w.tracing() {
		e := Event{Kind: EventReply, Question: q, Zone: zone, Server: server,
			Addr: to, RTT: resp.RTT, TCP: resp.TCP,
			Outcome: out.kind.String(), Reply: resp.Msg}
		if out.next != nil {
			e.Target = out.next.zone
		}
		w.emit(ctx, e)
	}
	return out, resp.Msg, nil
}

// classify is classify, with a forwarder's replies read as a recursive
// resolver's: it speaks for every zone, and its NODATA need not carry an
// SOA; a referral from it is a failure.
func (w *walk) classify(reply *dns.Msg, q dns.Question, zone string) outcome {
	if !w.recursive {
		return w.keepDNSSEC(classify(reply, q, zone), reply, zone)
	}
	out := w.keepDNSSEC(classify(reply, q, "."), reply, ".")
	switch {
	case out.kind == kindReferral:
		return outcome{kind: kindFailure, why: "a forwarder answered with a referral"}
	case out.kind == kindLame && reply.Rcode == dns.RcodeSuccess && reply.RecursionAvailable:
		m := &dns.Msg{}
		m.Rcode = dns.RcodeSuccess
		return outcome{kind: kindNODATA, msg: m}
	}
	return out
}

// askShared is ask, with identical queries in flight to the same server
// (from other clients' walks, or their glueless sub-resolutions) sharing
// one exchange (askflight.go). The shared exchange runs on its own
// deadline, so a walk that gives up cannot cancel it for the others; each
// walk that waits does so on its own ctx, and counts the query against its
// own budget. A traced walk, or one with a cache of its own, asks by
// itself so that it sees every step.
func (w *walk) askShared(ctx context.Context, zone, server string, to netip.AddrPort, q dns.Question) (outcome, error) {
	if w.tracing() || w.privateCache {
		out, _, err := w.ask(ctx, zone, server, to, q)
		return out, err
	}
	if w.sent >= maxUpstreamQueries {
		return outcome{}, errOutOfQueries
	}
	w.sent++
	key := askKey(to, zone, q, w.plain, w.recursive, w.upstreamDO())
	return w.r.askFlights.do(ctx, key, func(ctx context.Context) (outcome, error) {
		one := &walk{r: w.r, cache: w.cache, plain: w.plain, recursive: w.recursive, do: w.upstreamDO()} // a walk of one question, for budget and quirks
		out, _, err := one.ask(ctx, zone, server, to, q)
		return out, err
	})
}

// askKey names an upstream query for sharing: the server, the zone
// asked, the question, and how it is asked. It is built by hand, not
// with fmt: every upstream query needs one.
func askKey(to netip.AddrPort, zone string, q dns.Question, plain, recursive, do bool) string {
	b := make([]byte, 0, 64+len(zone)+len(q.Name))
	b = to.AppendTo(b)
	b = append(append(append(b, '|'), zone...), '|')
	b = append(append(b, canonical(q.Name)...), '|')
	b = strconv.AppendUint(b, uint64(q.Qtype), 10)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(q.Qclass), 10)
	b = append(append(b, '|'), boolByte(plain), boolByte(recursive), boolByte(do))
	return string(b)
}

// boolByte is 1 or 0, as a key's byte.
func boolByte(v bool) byte {
	if v {
		return '1'
	}
	return '0'
}

// errCaseNotEchoed is a reply whose question was not in the case sent.
var errCaseNotEchoed = fmt.Errorf("%w: question not echoed in the case it was sent (0x20); asking again in plain case", ErrBadReply)

// exchange sends one query for q, with its name spelt wireName (0x20),
// spending one unit of the walk's budget, with the timeout learned for
// the server, and tells the infrastructure cache how it went. Events name
// q as the walk knows it.
func (w *walk) exchange(ctx context.Context, zone, server string, to netip.AddrPort, q dns.Question, wireName string, edns bool) (Response, error) {
	addr := to.Addr()
	if w.sent >= maxUpstreamQueries {
		return Response{}, errOutOfQueries
	}
	release, err := w.r.throttle.Acquire(ctx, addr, w.r.clock.Now())
	if err != nil {
		if errors.Is(err, ErrRateLimited) {
			w.r.stats.rateLimited.Add(1)
			if w.tracing() {
				w.emit(ctx, Event{Kind: EventSkip, Question: q, Zone: zone, Target: server, Addr: to, Err: err})
			}
		}
		return Response{}, err
	}
	defer release()
	w.sent++
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventQuery, Question: q, Zone: zone, Server: server, Addr: to})
	}
	w.r.stats.queries.Add(1)
	rto := w.r.infra.Timeout(addr, w.r.clock.Now())
	wire := q
	wire.Name = wireName
	resp, err := w.exchangeCookies(ctx, to, wire, edns, rto)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			// The caller gave up: says nothing about the server.
		case errors.Is(err, ErrTimeout):
			w.r.stats.timeouts.Add(1)
			w.r.infra.TimedOut(addr, rto, w.r.clock.Now())
		default:
			w.r.stats.errors.Add(1)
			w.r.infra.TimedOut(addr, rto, w.r.clock.Now()) // unreachable is as bad as silent
		}
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventError, Question: q, Zone: zone, Server: server, Addr: to, Err: err})
		}
		return Response{}, err
	}
	w.r.infra.Reply(addr, resp.RTT, w.r.clock.Now())
	w.r.stats.rtt.Observe(resp.RTT)
	if resp.TCP {
		w.r.stats.tcp.Add(1)
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventTCPRetry, Question: q, Zone: zone, Server: server, Addr: to})
		}
	}
	return resp, nil
}

// exchangeCookies sends one query, with a DNS cookie when it carries
// EDNS (RFC 7873), and checks the cookie of the reply: a reply carrying a
// client cookie other than ours is a forgery. A BADCOOKIE reply that
// brings a new server cookie is answered by asking once more with it
// (RFC 7873 section 5.3).
func (w *walk) exchangeCookies(ctx context.Context, to netip.AddrPort, wire dns.Question, edns bool, rto time.Duration) (Response, error) {
	for attempt := 0; ; attempt++ {
		query := w.r.newQuery(wire, edns, w.recursive, w.upstreamDO())
		if edns {
			opt := query.IsEdns0()
			opt.Option = append(opt.Option, w.r.cookies.Option(to.Addr()))
		}
		resp, err := w.r.exchange(ctx, query, to, rto)
		if err != nil || !edns {
			return resp, err
		}
		fresh, err := w.r.cookies.Check(to.Addr(), query, resp.Msg)
		if err != nil {
			return Response{}, fmt.Errorf("%s: %w: %w", to, ErrBadReply, err)
		}
		if !fresh || attempt > 0 {
			return resp, nil
		}
		w.r.stats.queries.Add(1)
	}
}

// addresses resolves the address of a name server that came without glue:
// A first, then AAAA if IPv6 is on and A gave nothing usable. A failure
// is remembered for the rest of the walk; a failed A lookup is not
// followed by AAAA, since whatever broke A breaks AAAA too.
func (w *walk) addresses(ctx context.Context, name string) ([]netip.Addr, error) {
	key := canonical(name)
	if err, ok := w.unreachable[key]; ok {
		return nil, fmt.Errorf("already failed in this walk: %w", err)
	}
	addrs, err := w.lookupAddresses(ctx, name)
	if err != nil && !stop(ctx, err) {
		w.unreachable[key] = err
	}
	return addrs, err
}

func (w *walk) lookupAddresses(ctx context.Context, name string) ([]netip.Addr, error) {
	if w.depth >= maxSubResolutionDepth {
		return nil, fmt.Errorf("%w: glueless servers nested more than %d deep", ErrBudgetExceeded, maxSubResolutionDepth)
	}
	types := []uint16{dns.TypeA}
	if w.r.ipv6 {
		types = append(types, dns.TypeAAAA)
	}
	for _, t := range types {
		q := dns.Question{Name: name, Qtype: t, Qclass: dns.ClassINET}
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventSubResolve, Question: q, Target: name})
		}
		w.depth++
		m, err := w.resolveGuarded(ctx, q)
		w.depth--
		if err != nil {
			return nil, err
		}
		var found []netip.Addr
		for _, rr := range m.Answer {
			if a, ok := addrOf(rr); ok {
				found = append(found, a)
			}
		}
		if usable := w.r.usable(found); len(usable) > 0 {
			return usable, nil
		}
	}
	return nil, fmt.Errorf("no usable address for %s", name)
}

// prime asks the hinted servers for the root NS RRset and caches it, with
// the addresses from the additional section, as the root delegation.
func (w *walk) prime(ctx context.Context) error {
	q := dns.Question{Name: ".", Qtype: dns.TypeNS, Qclass: dns.ClassINET}
	var cands []selection.Candidate
	for _, ns := range w.r.hints {
		for _, a := range w.r.usable(ns.Addrs) {
			cands = append(cands, selection.Candidate{Server: ns.Name, To: netip.AddrPortFrom(a, w.r.portOf(ns))})
		}
	}
	shuffle(w.r, cands)
	w.r.infra.Order(cands, ".", w.r.clock.Now(), w.r.randIntN)
	var failures []error
	for _, c := range cands {
		out, reply, err := w.ask(ctx, ".", c.Server, c.To, q)
		if err != nil {
			if stop(ctx, err) {
				return err
			}
			failures = append(failures, err)
			continue
		}
		if out.kind != kindAnswer || !reply.Authoritative {
			failures = append(failures, fmt.Errorf("%s (%s): %s reply to priming query", c.Server, c.To, out.kind))
			continue
		}
		var glue []dns.RR
		for _, rr := range reply.Extra {
			if t := rr.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
				glue = append(glue, rr)
			}
		}
		root := newDelegation(".", out.msg.Answer, glue)
		if len(root.glue) == 0 {
			failures = append(failures, fmt.Errorf("%s (%s): priming reply without addresses", c.Server, c.To))
			continue
		}
		now := w.r.clock.Now()
		_ = w.cache.storeAnswer(Query{Question: q}, out.msg, now) // the priming answer goes to no client
		w.cache.storeDelegation(root, now)
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNoReachableAuthority, joinErrors(failures...))
}
