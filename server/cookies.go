package server

import (
	"net/netip"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// answerCookie puts in reply the COOKIE option req's cookie deserves, and
// counts it; false means the cookie is malformed (FORMERR). A client
// without a valid server cookie is answered all the same (RFC 7873
// section 5.2.3): cookies only prove, to a client that uses them, that
// the answer came from us.
func (h *Handler) answerCookie(req, reply *dns.Msg, client netip.Addr) bool {
	if h.cookies == nil {
		return true
	}
	state, opt := h.cookies.Check(req, client)
	h.metrics.cookies[state].Add(1)
	if state == dnscookie.Malformed {
		return false
	}
	if opt != nil {
		ro := replyOPT(reply, req.IsEdns0())
		ro.Option = append(ro.Option, opt)
	}
	return true
}
