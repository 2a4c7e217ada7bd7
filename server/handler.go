package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver"
)

// Resolver is what the handler needs to answer a question.
type Resolver interface {
	Resolve(ctx context.Context, q dns.Question) (*resolver.Result, error)
}

// DefaultClientTimeout is the budget for answering one client when
// HandlerOptions.ClientTimeout is zero: under the 5 s after which dig and
// most stubs retry.
const DefaultClientTimeout = 4 * time.Second

// ednsBufferSize is the largest UDP reply we send and the size we
// advertise (DNS Flag Day 2020).
const ednsBufferSize = 1232

// maxExtraText bounds the EXTRA-TEXT of an Extended DNS Error.
const maxExtraText = 200

// HandlerOptions configures a Handler.
type HandlerOptions struct {
	Resolver      Resolver      // required
	ACL           ACL           // who may ask; the zero ACL refuses everyone
	ClientTimeout time.Duration // 0: DefaultClientTimeout
	Metrics       *Metrics      // nil: not counted
	QueryLog      *QueryLog     // nil: no query log
	Logger        *slog.Logger  // nil: discard
}

// Handler answers clients' DNS queries. It is safe for concurrent use.
type Handler struct {
	res     Resolver
	acl     ACL
	timeout time.Duration
	metrics *Metrics
	qlog    *QueryLog
	log     *slog.Logger
}

// NewHandler returns a Handler.
func NewHandler(opts HandlerOptions) (*Handler, error) {
	if opts.Resolver == nil {
		return nil, errors.New("new handler: no resolver")
	}
	h := &Handler{res: opts.Resolver, acl: opts.ACL, timeout: opts.ClientTimeout, metrics: opts.Metrics,
		qlog: opts.QueryLog, log: opts.Logger}
	if h.timeout <= 0 {
		h.timeout = DefaultClientTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// ServeDNS implements dns.Handler.
func (h *Handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	start := time.Now()
	client := clientAddr(w.RemoteAddr())
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic while answering", "client", client.String(), "err", fmt.Sprint(p), "stack", string(debug.Stack()))
			reply := new(dns.Msg)
			reply.SetRcode(req, dns.RcodeServerFailure)
			reply.RecursionAvailable = true
			h.write(w, req, reply, client, start, "")
		}
	}()
	reply, cached := h.answer(req, client)
	if reply == nil {
		return // dropped on purpose
	}
	h.write(w, req, reply, client, start, cached)
}

// answer builds the reply to req, or nil when req deserves none. cached
// says whether a resolution was answered from the cache alone ("hit"),
// needed upstream queries ("miss"), or did not happen ("").
func (h *Handler) answer(req *dns.Msg, client netip.Addr) (*dns.Msg, string) {
	if req.Response {
		return nil, "" // never answer a response: that is how reflection loops start
	}
	reply := new(dns.Msg)
	reply.SetReply(req)
	reply.RecursionAvailable = true
	reply.Authoritative = false

	if !h.acl.Allows(client) {
		reply.Rcode = dns.RcodeRefused
		return reply, ""
	}
	if req.Opcode != dns.OpcodeQuery {
		reply.Rcode = dns.RcodeNotImplemented
		return reply, ""
	}
	if len(req.Question) != 1 {
		reply.Rcode = dns.RcodeFormatError
		return reply, ""
	}
	if opt := req.IsEdns0(); opt != nil && opt.Version() != 0 {
		reply.Rcode = dns.RcodeBadVers // RFC 6891 section 6.1.3
		return reply, ""
	}
	q := req.Question[0]
	switch {
	case q.Qclass != dns.ClassINET:
		reply.Rcode = dns.RcodeRefused
		return reply, ""
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		reply.Rcode = dns.RcodeRefused // zone transfers are for authoritative servers
		return reply, ""
	case isMetaType(q.Qtype):
		reply.Rcode = dns.RcodeFormatError
		return reply, ""
	}

	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	res, err := h.res.Resolve(ctx, q)
	if err != nil {
		h.log.Debug("resolution failed", "client", client.String(), "qname", q.Name, "qtype", dns.TypeToString[q.Qtype], "err", err)
		reply.Rcode = dns.RcodeServerFailure
		if req.IsEdns0() != nil {
			reply.SetEdns0(ednsBufferSize, false)
			addEDE(reply, err)
		}
		return reply, "miss"
	}
	reply.Rcode = res.Reply.Rcode
	reply.Answer = res.Reply.Answer
	reply.Ns = res.Reply.Ns
	if res.Upstream == 0 {
		return reply, "hit"
	}
	return reply, "miss"
}

// write adds EDNS0 if the client used it, truncates to what the client can
// take over UDP, sends, counts, and logs the query if the query log is on.
func (h *Handler) write(w dns.ResponseWriter, req, reply *dns.Msg, client netip.Addr, start time.Time, cached string) {
	limit := dns.MaxMsgSize
	if opt := req.IsEdns0(); opt != nil {
		if reply.IsEdns0() == nil {
			reply.SetEdns0(ednsBufferSize, false)
		}
		if isUDP(w) {
			limit = int(max(dns.MinMsgSize, min(opt.UDPSize(), ednsBufferSize)))
		}
	} else if isUDP(w) {
		limit = dns.MinMsgSize
	}
	reply.Compress = true
	reply.Truncate(limit)
	// Counted before it is sent, so that a client that reads the
	// statistics after its answer finds its query in them.
	took := time.Since(start)
	var q dns.Question
	if len(req.Question) > 0 {
		q = req.Question[0]
	}
	if h.metrics != nil {
		h.metrics.observe(q.Qtype, reply.Rcode, took)
	}
	if err := w.WriteMsg(reply); err != nil {
		h.log.Debug("write reply", "client", w.RemoteAddr().String(), "err", err)
	}
	if h.qlog.Enabled() {
		h.qlog.write(client, q, reply.Rcode, took, cached)
	}
}

// addEDE attaches an Extended DNS Error (RFC 8914) explaining err.
func addEDE(reply *dns.Msg, err error) {
	code := dns.ExtendedErrorCodeOther
	switch {
	case errors.Is(err, resolver.ErrCachedFailure):
		code = dns.ExtendedErrorCodeCachedError // RFC 9520 section 3.1
	case errors.Is(err, resolver.ErrNoReachableAuthority), errors.Is(err, context.DeadlineExceeded):
		code = dns.ExtendedErrorCodeNoReachableAuthority
	case errors.Is(err, resolver.ErrBadReply):
		code = dns.ExtendedErrorCodeNetworkError
	}
	text := strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(text) > maxExtraText {
		text = text[:maxExtraText]
	}
	opt := reply.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: code, ExtraText: text})
}

// isMetaType reports whether t is a pseudo-type that may not appear in a
// question (RFC 6895 section 3.1), other than AXFR, IXFR and ANY.
func isMetaType(t uint16) bool {
	switch t {
	case dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY, dns.TypeMAILA, dns.TypeMAILB:
		return true
	}
	return false
}

func clientAddr(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

func isUDP(w dns.ResponseWriter) bool {
	_, ok := w.RemoteAddr().(*net.UDPAddr)
	return ok
}
