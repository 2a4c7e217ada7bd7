package zones

import (
	"net/netip"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// answerCookie puts in m, the reply to req from client, the COOKIE option
// req's cookie deserves (RFC 7873 section 5.2), and counts it. It turns m
// into FORMERR for a malformed cookie, and into BADCOOKIE for a client
// cookie without a valid server cookie when the handler is a
// [FaultBadCookie] one; in both cases it drops m's records and reports
// false. m must already carry its OPT record.
func (h *Handler) answerCookie(req, m *dns.Msg, client netip.Addr) bool {
	state, opt := h.cookies.Check(req, client)
	h.cookieStates[state].Add(1)
	switch {
	case state == dnscookie.Malformed:
		m.Rcode = dns.RcodeFormatError
	case state == dnscookie.Unverified && h.fault == FaultBadCookie:
		m.Rcode = dns.RcodeBadCookie // miekg/dns puts the upper bits in the OPT record
	default:
		if opt != nil {
			m.IsEdns0().Option = append(m.IsEdns0().Option, opt)
		}
		return true
	}
	m.Authoritative = false
	m.Answer, m.Ns = nil, nil
	m.Extra = []dns.RR{m.IsEdns0()}
	if opt != nil {
		m.IsEdns0().Option = append(m.IsEdns0().Option, opt)
	}
	return false
}

// Cookies returns how many queries with EDNS carried a cookie in state
// so far; always 0 for a handler that ignores cookies.
func (h *Handler) Cookies(state dnscookie.State) uint64 {
	if state >= dnscookie.NumStates {
		return 0
	}
	return h.cookieStates[state].Load()
}
