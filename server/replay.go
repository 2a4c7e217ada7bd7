package server

import (
	"net/netip"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/server/internal/packet"
)

// The fast path: a UDP query that the full path has answered before from
// the cache is answered again, while the
// answer's TTLs last, by replaying the packed reply with the query's ID,
// RD bit and question case, and TTLs lowered by the time gone by
// (server/internal/packet). It never unpacks a message, takes no
// recursion slot and allocates nothing. It skips everything that needs
// the full path: a query it cannot read as plain (EDNS options such as
// cookies, several records, anything malformed), a client outside the
// ACL or over its rate (turned away and counted by the full path), and
// every query while the query log is on, which logs what the full path
// saw. The store is flushed with the cache and on a reload of the local
// zones (FlushAnswers), and an entry expires with nine tenths of its
// smallest TTL, so the cache's prefetch, which the full path triggers in
// the last tenth, still sees the popular names.

// answerFast implements fastAnswerer.
func (h *Handler) answerFast(pkt []byte, from netip.AddrPort, out []byte) (int, bool) {
	if h.answers == nil || h.qlog.Enabled() {
		return 0, false
	}
	var q packet.Query
	if !packet.ParseQuery(pkt, &q) {
		return 0, false
	}
	client := from.Addr().Unmap()
	p := h.policy.Load()
	if !p.ACL.Allows(client) {
		return 0, false
	}
	start := h.clock.Now()
	n, ok := h.answers.Answer(&q, pkt, start, out)
	if !ok {
		return 0, false
	}
	// The rate limit is checked once the answer is known, so that a miss
	// spends no token here before the full path spends its own.
	if p.limiter != nil && !p.limiter.allow(client) {
		return 0, false
	}
	rcode := int(out[3] & 0xf)
	h.metrics.observe(q.Qtype, rcode, h.clock.Now().Sub(start))
	h.metrics.replayed.Add(1)
	return n, true
}

// keepForReplay has the reply about to be sent through w stored for the
// fast path, when w is the writer of a plain UDP query and the reply came
// from the cache: not from a walk (most names resolved are asked once,
// and storing costs a repacking; the second asking stores it), not stale
// (its EDE and TTLs are for one client, once), not made up by the handler
// (REFUSED, CHAOS, ANY, errors). The writer stores it before sending it,
// so that a client asking again once it has its answer finds it stored.
func (h *Handler) keepForReplay(w dns.ResponseWriter, cached string) {
	if h.answers == nil || cached != fromCache {
		return
	}
	if uw, ok := w.(*udpWriter); ok && uw.plain {
		uw.keep, uw.clock = h.answers, h.clock
	}
}

// FlushAnswers drops every reply kept for the fast path. Whoever changes
// what the resolver would answer (a cache flush, new local zones) calls
// it, or clients keep getting the old answers until their TTLs run out.
func (h *Handler) FlushAnswers() {
	if h.answers != nil {
		h.answers.Flush()
	}
}
