package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"
)

// newQuery builds the query sent upstream for q: a fresh random ID, no
// recursion desired (we do the recursion), and EDNS0 with our buffer size.
func (r *Resolver) newQuery(q dns.Question, edns bool) *dns.Msg {
	m := new(dns.Msg)
	m.Id = r.newID()
	m.Opcode = dns.OpcodeQuery
	m.RecursionDesired = false
	m.Question = []dns.Question{q}
	if edns {
		m.SetEdns0(ednsBufferSize, false)
	}
	return m
}

// ask sends q to one server of zone and classifies its reply. A server
// that rejects EDNS with FORMERR or NOTIMP is asked once more without it
// (RFC 6891 section 7).
func (w *walk) ask(ctx context.Context, zone, server string, addr netip.Addr, q dns.Question) (outcome, error) {
	resp, err := w.exchange(ctx, zone, server, addr, q, true)
	if err == nil && resp.Msg.IsEdns0() == nil &&
		(resp.Msg.Rcode == dns.RcodeFormatError || resp.Msg.Rcode == dns.RcodeNotImplemented) {
		resp, err = w.exchange(ctx, zone, server, addr, q, false)
	}
	if err != nil {
		return outcome{}, err
	}
	out := classify(resp.Msg, q, zone)
	if w.tracing() {
		e := Event{Kind: EventReply, Question: q, Zone: zone, Server: server,
			Addr: netip.AddrPortFrom(addr, w.r.port), RTT: resp.RTT, TCP: resp.TCP,
			Outcome: out.kind.String(), Reply: resp.Msg}
		if out.next != nil {
			e.Target = out.next.zone
		}
		w.emit(ctx, e)
	}
	return out, nil
}

// exchange sends one query, spending one unit of the walk's budget.
func (w *walk) exchange(ctx context.Context, zone, server string, addr netip.Addr, q dns.Question, edns bool) (Response, error) {
	if w.sent >= maxUpstreamQueries {
		return Response{}, errOutOfQueries
	}
	w.sent++
	to := netip.AddrPortFrom(addr, w.r.port)
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventQuery, Question: q, Zone: zone, Server: server, Addr: to})
	}
	w.r.stats.queries.Add(1)
	resp, err := w.r.exch.Exchange(ctx, w.r.newQuery(q, edns), to)
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			w.r.stats.timeouts.Add(1)
		} else {
			w.r.stats.errors.Add(1)
		}
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventError, Question: q, Zone: zone, Server: server, Addr: to, Err: err})
		}
		return Response{}, err
	}
	w.r.stats.rtt.Observe(resp.RTT)
	if resp.TCP {
		w.r.stats.tcp.Add(1)
		if w.tracing() {
			w.emit(ctx, Event{Kind: EventTCPRetry, Question: q, Zone: zone, Server: server, Addr: to})
		}
	}
	return resp, nil
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
	var failures []error
	for _, ns := range w.r.shuffle(w.r.hints) {
		for _, addr := range w.r.usable(ns.Addrs) {
			resp, err := w.exchange(ctx, ".", ns.Name, addr, q, true)
			if err != nil {
				if stop(ctx, err) {
					return err
				}
				failures = append(failures, err)
				continue
			}
			out := classify(resp.Msg, q, ".")
			if w.tracing() {
				w.emit(ctx, Event{Kind: EventReply, Question: q, Zone: ".", Server: ns.Name,
					Addr: netip.AddrPortFrom(addr, w.r.port), RTT: resp.RTT, TCP: resp.TCP,
					Outcome: out.kind.String(), Reply: resp.Msg})
			}
			if out.kind != kindAnswer || !resp.Msg.Authoritative {
				failures = append(failures, fmt.Errorf("%s (%s): %s reply to priming query", ns.Name, addr, out.kind))
				continue
			}
			var glue []dns.RR
			for _, rr := range resp.Msg.Extra {
				if t := rr.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
					glue = append(glue, rr)
				}
			}
			root := newDelegation(".", out.msg.Answer, glue)
			if len(root.glue) == 0 {
				failures = append(failures, fmt.Errorf("%s (%s): priming reply without addresses", ns.Name, addr))
				continue
			}
			now := w.r.clock.Now()
			_ = w.cache.storeAnswer(q, out.msg, now) // the priming answer goes to no client
			w.cache.storeDelegation(root, now)
			return nil
		}
	}
	return fmt.Errorf("%w: %w", ErrNoReachableAuthority, joinErrors(failures...))
}
