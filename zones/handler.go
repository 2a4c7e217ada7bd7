package zones

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

// ednsBufferSize is the UDP payload size we advertise in EDNS(0) and the
// largest UDP query we read: 1232 octets fit the IPv6 minimum MTU without
// fragmentation (DNS flag day 2020).
const ednsBufferSize = 1232

// HandlerOptions configures a Handler.
type HandlerOptions struct {
	// Zones are the zones served; two with the same origin are an error.
	Zones []*Zone
	// Fault makes the handler misbehave on purpose.
	Fault Fault
	// Name identifies the server in logs (key "server"), e.g. its address.
	Name string
	// Forger is where a [FaultForge] handler sends its forged replies
	// from: a UDP socket bound to another address than the server's.
	// Required with FaultForge, unused otherwise; whoever opened it
	// closes it.
	Forger net.PacketConn
	// LossEvery drops every LossEvery-th UDP query, whatever the fault,
	// as a lossy network would; 0 drops none.
	LossEvery int
	// Cookies, when set, answers DNS cookies (RFC 7873, RFC 9018): a query
	// carrying a client cookie gets a server cookie back, and a malformed
	// COOKIE option FORMERR. Nil: cookies are ignored, as a server that
	// predates them does, unless the fault is [FaultBadCookie], which
	// makes cookies under a random secret of its own.
	Cookies *dnscookie.Server
	// Logger receives a Debug line per query; nil discards.
	Logger *slog.Logger
}

// Handler is the authoritative dns.Handler for one server address. It is
// safe for concurrent use.
type Handler struct {
	zones  []*Zone // deepest origin first
	fault  Fault
	name   string
	log    *slog.Logger
	forger net.PacketConn // FaultForge: the socket forged replies leave from

	cookies      *dnscookie.Server                  // nil: cookies are ignored
	cookieStates [dnscookie.NumStates]atomic.Uint64 // queries seen, by what their cookie was

	udpQueries atomic.Uint64 // FaultLossy: UDP queries seen, to drop every second one
	lossEvery  uint64        // HandlerOptions.LossEvery
	udpSeen    atomic.Uint64 // UDP queries seen, for lossEvery

	stop     chan struct{} // closed by Stop: ends the waits of FaultSlow
	stopOnce sync.Once
}

// NewHandler returns a Handler serving opts.Zones.
func NewHandler(opts HandlerOptions) (*Handler, error) {
	if opts.Fault == FaultForge && opts.Forger == nil {
		return nil, fmt.Errorf("new handler %s: fault %s needs a socket to forge replies from", opts.Name, opts.Fault)
	}
	return newHandler(opts)
}

// newHandler is NewHandler without the check of opts.Forger, for a Server,
// which binds the forger socket later and hands it over before serving.
func newHandler(opts HandlerOptions) (*Handler, error) {
	if opts.LossEvery < 0 {
		return nil, fmt.Errorf("new handler %s: loss every %d queries: want 0 or more", opts.Name, opts.LossEvery)
	}
	h := &Handler{fault: opts.Fault, name: opts.Name, log: opts.Logger, forger: opts.Forger, stop: make(chan struct{}),
		lossEvery: uint64(opts.LossEvery), cookies: opts.Cookies}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.cookies == nil && h.fault == FaultBadCookie {
		c, err := dnscookie.NewServer(nil, nil)
		if err != nil {
			return nil, fmt.Errorf("new handler %s: %w", opts.Name, err)
		}
		h.cookies = c
	}
	seen := make(map[string]bool)
	for _, z := range opts.Zones {
		if z == nil {
			return nil, fmt.Errorf("new handler %s: nil zone", opts.Name)
		}
		if seen[z.origin] {
			return nil, fmt.Errorf("new handler %s: zone %s given twice", opts.Name, z.origin)
		}
		seen[z.origin] = true
		h.zones = append(h.zones, z)
	}
	slices.SortFunc(h.zones, func(a, b *Zone) int {
		if a.labels != b.labels {
			return b.labels - a.labels
		}
		return cmp.Compare(a.origin, b.origin)
	})
	return h, nil
}

// Zones returns the origins of the zones served, sorted.
func (h *Handler) Zones() []string {
	out := make([]string, 0, len(h.zones))
	for _, z := range h.zones {
		out = append(out, z.origin)
	}
	slices.Sort(out)
	return out
}

// Fault returns the handler's fault.
func (h *Handler) Fault() Fault { return h.fault }

// Stop ends at once every wait of a [FaultSlow] handler: the replies it
// holds are dropped, and so are the replies to later queries, since a
// stopped handler belongs to a server going down. It changes nothing for
// other faults. [Server.Shutdown] calls it before waiting for the serving
// goroutines; whoever serves a Handler some other way calls it likewise.
// It is safe to call more than once.
func (h *Handler) Stop() {
	h.stopOnce.Do(func() { close(h.stop) })
}

// ServeDNS answers one query. Responses (QR set) are never answered, so two
// servers cannot bounce packets between them; a [FaultSilent] handler
// answers nothing at all, a [FaultEDNSDrop] one nothing that carries an OPT
// record, a [FaultLossy] one every second query over UDP, and a
// [FaultSlow] one holds each reply for slowDelay (until [Handler.Stop]). A
// [FaultForge] handler sends its forged reply over UDP before the real
// one, and a [FaultGarbage] handler writes its reply garbled. Over UDP the
// reply is truncated (TC set) to the client's limit: 512 octets without
// EDNS(0), else the size it advertised but at least 512 (RFC 6891 section
// 6.2.5).
func (h *Handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	defer func() {
		// Never let a bug take the server down: SERVFAIL and an Error log.
		if v := recover(); v != nil {
			h.log.Error("panic while answering", "server", h.name, "err", fmt.Errorf("%v", v))
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeServerFailure)
			if err := w.WriteMsg(m); err != nil {
				h.log.Debug("write reply", "server", h.name, "err", err)
			}
		}
	}()
	if req.Response || h.fault == FaultSilent {
		return
	}
	if h.fault == FaultEDNSDrop && hasOPT(req) {
		h.log.Debug("query with EDNS dropped", "server", h.name)
		return
	}
	_, overTCP := w.RemoteAddr().(*net.TCPAddr)
	if h.fault == FaultLossy && !overTCP && h.dropUDP() {
		h.log.Debug("UDP query dropped", "server", h.name)
		return
	}
	if h.lossEvery > 0 && !overTCP && h.udpSeen.Add(1)%h.lossEvery == 0 {
		h.log.Debug("UDP query lost", "server", h.name)
		return
	}
	// The client's address only keys its cookies: a parse failure leaves
	// it zero, and the client's cookies are checked against that.
	client, _ := netip.ParseAddrPort(w.RemoteAddr().String())
	reply, zone := h.reply(req, client.Addr().Unmap(), !overTCP)
	if h.log.Enabled(context.Background(), slog.LevelDebug) {
		h.logQuery(req, reply, zone)
	}
	if h.fault == FaultForge && !overTCP {
		h.forge(w.RemoteAddr(), req)
	}
	if h.fault == FaultSlow && !h.hold() {
		return
	}
	if h.fault == FaultGarbage {
		h.writeGarbled(w, reply)
		return
	}
	if err := w.WriteMsg(reply); err != nil {
		h.log.Debug("write reply", "server", h.name, "err", err)
	}
}

// writeGarbled writes reply as a FaultGarbage handler does: cut short.
func (h *Handler) writeGarbled(w dns.ResponseWriter, reply *dns.Msg) {
	b, err := garble(reply)
	if err == nil {
		_, err = w.Write(b)
	}
	if err != nil {
		h.log.Debug("write garbled reply", "server", h.name, "err", err)
	}
}

// hold waits slowDelay before a FaultSlow handler writes its reply, and
// reports false if [Handler.Stop] came first, so the reply is dropped and
// no serving goroutine outlives the server.
func (h *Handler) hold() bool {
	h.log.Debug("holding the reply", "server", h.name, "duration", slowDelay)
	t := time.NewTimer(slowDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-h.stop:
		return false
	}
}

// logQuery logs one answered query at Debug.
func (h *Handler) logQuery(req, reply *dns.Msg, zone string) {
	qname, qtype := "", ""
	if len(req.Question) > 0 {
		qname, qtype = req.Question[0].Name, dns.Type(req.Question[0].Qtype).String()
	}
	h.log.Debug("query", "server", h.name, "zone", zone, "qname", qname, "qtype", qtype,
		"rcode", dns.RcodeToString[reply.Rcode])
}

// reply builds the reply to req, from client, and names the zone that
// answered it ("" if none did).
func (h *Handler) reply(req *dns.Msg, client netip.Addr, overUDP bool) (*dns.Msg, string) {
	m := new(dns.Msg)
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	m.RecursionDesired = req.RecursionDesired
	m.CheckingDisabled = req.CheckingDisabled
	m.Compress = true
	if len(req.Question) == 1 {
		m.Question = []dns.Question{req.Question[0]}
	}

	opt, optErr := requestOPT(req)
	zone := ""
	switch {
	case optErr:
		m.Rcode = dns.RcodeFormatError
		opt = nil // several OPT records: none of them is trusted
	case h.fault == FaultEDNSFormErr && opt != nil:
		m.Rcode = dns.RcodeFormatError
		opt = nil // a server that predates EDNS(0) knows no OPT to send back
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
		m.Question = nil
	case opt != nil && opt.Version() != 0:
		m.Rcode = dns.RcodeBadVers // RFC 6891 section 6.1.3
	case h.fault == FaultRefuse:
		m.Rcode = dns.RcodeRefused
	case h.fault == FaultUpward:
		upwardReferral(m)
	case h.fault == FaultNoAA:
		notAuthoritative(m)
	default:
		if z := h.answer(m, req.Question[0], opt != nil && opt.Do()); z != nil {
			zone = z.origin
			h.tamper(m, z)
		}
	}
	if h.fault == FaultNoCase {
		lowerCaseNames(m)
	}

	if opt != nil {
		// Version 0 and our buffer size; the DO bit is copied (RFC 3225 section 3).
		m.SetEdns0(ednsBufferSize, opt.Do())
		if h.cookies != nil && !h.answerCookie(req, m, client) {
			zone = ""
		}
	}
	limit := dns.MaxMsgSize
	if overUDP {
		limit = dns.MinMsgSize
		if opt != nil {
			limit = max(dns.MinMsgSize, int(opt.UDPSize()))
		}
	}
	m.Truncate(limit)
	m.Compress = true // Truncate turns compression off when the reply fits without it
	if h.fault == FaultTCPReset && overUDP && zone != "" {
		truncateEmpty(m)
	}
	return m, zone
}

// answer fills m from the zone that serves q and returns the zone, or sets
// REFUSED and returns nil when no zone does. With do (the query's DNSSEC
// OK bit), a signed zone adds its signatures and proofs.
func (h *Handler) answer(m *dns.Msg, q dns.Question, do bool) *Zone {
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		m.Rcode = dns.RcodeRefused
		return nil
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		m.Rcode = dns.RcodeRefused // zone transfers are not offered
		return nil
	}
	z := h.zoneFor(q.Name, q.Qtype)
	if z == nil {
		m.Rcode = dns.RcodeRefused
		return nil
	}
	lookup := z.Lookup
	if do {
		lookup = z.LookupDNSSEC
	}
	r := lookup(q.Name, q.Qtype)
	if h.fault == FaultENTNXDOMAIN {
		emptyNonTerminalNXDOMAIN(z, q.Name, &r)
	}
	m.Rcode = r.Rcode
	m.Authoritative = r.Authoritative
	m.Answer, m.Ns, m.Extra = r.Answer, r.Authority, r.Additional
	return z
}

// zoneFor picks the deepest zone served whose origin is qname or an
// ancestor of it. A DS RRset lives in the parent zone (RFC 4035 section
// 3.1.4.1), so for DS at a zone's apex the parent is preferred when it is
// served here too.
func (h *Handler) zoneFor(qname string, qtype uint16) *Zone {
	name := canonicalName(qname)
	var apex *Zone
	for _, z := range h.zones {
		if !dns.IsSubDomain(z.origin, name) {
			continue
		}
		if qtype == dns.TypeDS && z.origin == name && name != "." {
			if apex == nil {
				apex = z
			}
			continue
		}
		return z
	}
	return apex
}

// requestOPT returns the request's OPT record, if any, and reports whether
// it has more than one, which RFC 6891 section 6.1.1 makes a FORMERR.
func requestOPT(req *dns.Msg) (*dns.OPT, bool) {
	var opt *dns.OPT
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			if opt != nil {
				return nil, true
			}
			opt = o
		}
	}
	return opt, false
}
