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
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/server/internal/packet"
)

// Resolver is what the handler needs to answer a question, with the DO
// and CD bits of the query that asked it: answers are cached under them.
type Resolver interface {
	ResolveQuery(ctx context.Context, q resolver.Query) (*resolver.Result, error)
}

// How a reply was come by, for the query log and the stale counter.
const (
	fromNowhere = ""      // no resolution: refused, malformed
	fromCache   = "hit"   // answered from the cache alone
	fromWalk    = "miss"  // needed upstream queries
	fromStale   = "stale" // an expired cached answer (RFC 8767)
)

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
	Resolver  Resolver  // required
	ACL       ACL       // who may ask; the zero ACL refuses everyone
	ACLAction Action    // what clients outside the ACL get; the zero value refuses
	RateLimit RateLimit // per-client query rate; the zero value does not limit
	// MaxRecursions caps the client queries resolved at once; a query
	// past it is answered from the cache, or SERVFAIL. 0:
	// DefaultMaxRecursions.
	MaxRecursions int
	// Cache answers the queries past MaxRecursions that it can; nil: they
	// all get SERVFAIL.
	Cache CacheReader
	// Identity answers id.server and hostname.bind (CHAOS TXT, RFC 4892)
	// and lets version.bind and version.server be answered with Version;
	// empty refuses them all. At most 255 bytes, as is Version.
	Identity string
	// Version is answered to version.bind and version.server; empty:
	// "rootwalk".
	Version string
	// Cookies answers the DNS cookies of clients (RFC 7873, RFC 9018);
	// nil: cookies are ignored.
	Cookies *dnscookie.Server
	// ReplayEntries bounds the replies kept for the fast path, which
	// answers repeated UDP questions from them (replay.go); 0: the
	// store's default, 100,000; negative: no fast path.
	ReplayEntries int
	// ReplayBytes bounds their bytes; 0 or negative: the store's
	// default, 64 MiB.
	ReplayBytes   int64
	ClientTimeout time.Duration // 0: DefaultClientTimeout
	Metrics       *Metrics      // nil: counted where nobody reads it
	QueryLog      *QueryLog     // nil: no query log
	Clock         Clock         // the time of rate limits and cache lookups; nil: the system clock
	Logger        *slog.Logger  // nil: discard
}

// Handler answers clients' DNS queries. It is safe for concurrent use.
type Handler struct {
	res Resolver
	// policy is who is answered and how fast; SetPolicy replaces it.
	policy    atomic.Pointer[livePolicy]
	timeout   time.Duration
	metrics   *Metrics
	qlog      *QueryLog
	clock     Clock
	log       *slog.Logger
	chaos     chaosAnswers
	recursion recursionLimit
	cookies   *dnscookie.Server
	answers   *packet.Store // replies kept for the fast path; nil: none
}

// NewHandler returns a Handler, or an error if opts are out of range.
func NewHandler(opts HandlerOptions) (*Handler, error) {
	if err := checkOptions(opts); err != nil {
		return nil, fmt.Errorf("new handler: %w", err)
	}
	h := &Handler{res: opts.Resolver,
		timeout: opts.ClientTimeout, metrics: opts.Metrics, qlog: opts.QueryLog, clock: opts.Clock, log: opts.Logger,
		chaos: newChaosAnswers(opts.Identity, opts.Version), cookies: opts.Cookies}
	if h.timeout <= 0 {
		h.timeout = DefaultClientTimeout
	}
	if h.metrics == nil {
		h.metrics = NewMetrics()
	}
	if h.clock == nil {
		h.clock = systemClock{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if err := h.SetPolicy(Policy{ACL: opts.ACL, ACLAction: opts.ACLAction, RateLimit: opts.RateLimit}); err != nil {
		return nil, fmt.Errorf("new handler: %w", err)
	}
	h.recursion = recursionLimit{max: int64(opts.MaxRecursions), cache: opts.Cache}
	if h.recursion.max == 0 {
		h.recursion.max = DefaultMaxRecursions
	}
	h.metrics.maxRecursions.Store(h.recursion.max)
	if opts.ReplayEntries >= 0 {
		var err error
		if h.answers, err = packet.NewStore(packet.Options{MaxEntries: opts.ReplayEntries, MaxBytes: max(opts.ReplayBytes, 0)}); err != nil {
			return nil, fmt.Errorf("new handler: %w", err)
		}
	}
	return h, nil
}

// checkOptions returns what is wrong with opts, or nil.
func checkOptions(opts HandlerOptions) error {
	switch {
	case opts.Resolver == nil:
		return errors.New("no resolver")
	case opts.MaxRecursions < 0:
		return fmt.Errorf("max recursions %d: want at least 0", opts.MaxRecursions)
	case len(opts.Identity) > maxTXTString || len(opts.Version) > maxTXTString:
		return fmt.Errorf("identity of %d bytes, version of %d: want at most %d each (one TXT string)",
			len(opts.Identity), len(opts.Version), maxTXTString)
	}
	return checkPolicy(Policy{ACL: opts.ACL, ACLAction: opts.ACLAction, RateLimit: opts.RateLimit})
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
			h.write(w, req, reply, client, start, fromNowhere)
		}
	}()
	reply, cached := h.answer(req, client)
	if reply == nil {
		return // dropped on purpose
	}
	h.write(w, req, reply, client, start, cached)
}

// answer builds the reply to req, or nil when req deserves none. The
// string says how the reply was come by: fromCache, fromWalk, fromStale,
// or fromNowhere when no resolution happened.
//
// The ACL comes before the rate limit, so that clients it turns away
// spend no tokens and take no room in the limiter's table; the rate limit
// comes before everything else, so that malformed, CHAOS and ANY queries
// count against a client's rate as much as any other.
func (h *Handler) answer(req *dns.Msg, client netip.Addr) (*dns.Msg, string) {
	if req.Response {
		return nil, fromNowhere // never answer a response: that is how reflection loops start
	}
	reply := new(dns.Msg)
	reply.SetReply(req)
	reply.RecursionAvailable = true
	reply.Authoritative = false

	p := h.policy.Load()
	if !p.ACL.Allows(client) {
		return h.turnAway(req, reply, &h.metrics.acl, p.ACLAction, dns.ExtendedErrorCodeProhibited)
	}
	if p.limiter != nil && !p.limiter.allow(client) {
		return h.turnAway(req, reply, &h.metrics.ratelimited, p.RateLimit.Action, noEDE)
	}
	if req.Opcode != dns.OpcodeQuery {
		reply.Rcode = dns.RcodeNotImplemented
		return reply, fromNowhere
	}
	if len(req.Question) != 1 {
		reply.Rcode = dns.RcodeFormatError
		return reply, fromNowhere
	}
	if opt := req.IsEdns0(); opt != nil && opt.Version() != 0 {
		reply.Rcode = dns.RcodeBadVers // RFC 6891 section 6.1.3
		return reply, fromNowhere
	}
	if !h.answerCookie(req, reply, client) {
		reply.Rcode = dns.RcodeFormatError // RFC 7873 section 5.2.2
		return reply, fromNowhere
	}
	q := req.Question[0]
	switch {
	case q.Qclass == dns.ClassCHAOS:
		h.chaos.answer(q, reply)
		return reply, fromNowhere
	case q.Qclass != dns.ClassINET:
		reply.Rcode = dns.RcodeRefused
		return reply, fromNowhere
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		reply.Rcode = dns.RcodeRefused // zone transfers are for authoritative servers
		return reply, fromNowhere
	case isMetaType(q.Qtype):
		reply.Rcode = dns.RcodeFormatError
		return reply, fromNowhere
	case q.Qtype == dns.TypeANY:
		answerANY(q, reply)
		return reply, fromNowhere
	}

	return h.resolve(req, reply, client)
}

// noEDE asks turnAway for a REFUSED without an Extended DNS Error.
const noEDE = 0xffff

// turnAway counts a query the handler will not serve and, as action says,
// drops it (nil) or fills reply with REFUSED and, for a client that
// speaks EDNS, the Extended DNS Error ede unless it is noEDE.
func (h *Handler) turnAway(req, reply *dns.Msg, counts *[numActions]atomic.Uint64, action Action, ede uint16) (*dns.Msg, string) {
	turnedAway(counts, action)
	if action == ActionDrop {
		return nil, fromNowhere
	}
	reply.Rcode = dns.RcodeRefused
	if opt := req.IsEdns0(); opt != nil && ede != noEDE {
		addEDE(replyOPT(reply, opt), ede, "")
	}
	return reply, fromNowhere
}

// resolve asks the resolver for req's question, with its DO and CD bits,
// and fills in reply.
func (h *Handler) resolve(req, reply *dns.Msg, client netip.Addr) (*dns.Msg, string) {
	q := resolver.Query{Question: req.Question[0], CD: req.CheckingDisabled}
	opt := req.IsEdns0()
	if opt != nil {
		q.DO = opt.Do()
	}
	if !h.recursion.acquire(h.metrics) {
		return h.overLimit(q, reply, opt)
	}
	defer h.recursion.release(h.metrics)
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	res, err := h.res.ResolveQuery(ctx, q)
	if err != nil {
		h.log.Debug("resolution failed", "client", client.String(), "qname", q.Name, "qtype", dns.TypeToString[q.Qtype], "err", err)
		reply.Rcode = dns.RcodeServerFailure
		if opt != nil {
			addEDE(replyOPT(reply, opt), errorEDE(err), errorText(err))
		}
		return reply, fromWalk
	}
	reply.Rcode = res.Reply.Rcode
	reply.Answer = res.Reply.Answer
	reply.Ns = res.Reply.Ns
	// AD only for a client that asked for it, with AD or DO (RFC 6840
	// section 5.8), and only for what was validated as secure.
	reply.AuthenticatedData = res.Reply.AuthenticatedData && (req.AuthenticatedData || q.DO)
	switch {
	case res.Stale:
		if opt != nil {
			addEDE(replyOPT(reply, opt), staleEDE(reply.Rcode), "")
		}
		return reply, fromStale
	case res.Upstream == 0:
		return reply, fromCache
	}
	return reply, fromWalk
}

// write adds EDNS0 if the client used it, truncates to what the client can
// take over UDP, sends, counts, and logs the query if the query log is on.
func (h *Handler) write(w dns.ResponseWriter, req, reply *dns.Msg, client netip.Addr, start time.Time, cached string) {
	transport := transportOf(w)
	limit := dns.MaxMsgSize
	if opt := req.IsEdns0(); opt != nil {
		replyOPT(reply, opt)
		if transport == TransportUDP {
			limit = int(max(dns.MinMsgSize, min(opt.UDPSize(), ednsBufferSize)))
		}
	} else if transport == TransportUDP {
		limit = dns.MinMsgSize
	}
	reply.Truncate(limit)
	reply.Compress = true // Truncate turns compression off when the reply fits without it
	// Counted before it is sent, so that a client that reads the
	// statistics after its answer finds its query in them.
	took := time.Since(start)
	var q dns.Question
	if len(req.Question) > 0 {
		q = req.Question[0]
	}
	h.metrics.observe(q.Qtype, reply.Rcode, took)
	h.metrics.countTransport(transport)
	if cached == fromStale {
		h.metrics.stale.Add(1)
	}
	// Whether to log is decided before the client has its answer, so that
	// a query answered before the query log is switched on is never
	// logged after.
	logIt := h.qlog.Enabled()
	h.keepForReplay(w, cached)
	if err := w.WriteMsg(reply); err != nil {
		h.log.Debug("write reply", "client", w.RemoteAddr().String(), "err", err)
	}
	if logIt {
		h.qlog.write(client, q, reply.Rcode, took, cached)
	}
}

// replyOPT returns reply's OPT record, adding one first if it has none:
// our buffer size, and the DO bit copied from the query's OPT, reqOPT
// (RFC 3225 section 3).
func replyOPT(reply *dns.Msg, reqOPT *dns.OPT) *dns.OPT {
	if opt := reply.IsEdns0(); opt != nil {
		return opt
	}
	reply.SetEdns0(ednsBufferSize, reqOPT.Do())
	return reply.IsEdns0()
}

// addEDE attaches an Extended DNS Error (RFC 8914) to opt.
func addEDE(opt *dns.OPT, code uint16, text string) {
	opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: code, ExtraText: text})
}

// errorEDE is the Extended DNS Error code that explains err.
func errorEDE(err error) uint16 {
	var bogus *resolver.BogusError
	if errors.As(err, &bogus) {
		return bogus.Code // DNSSEC Bogus, Signature Expired, DNSKEY Missing, ... (RFC 8914)
	}
	switch {
	case errors.Is(err, resolver.ErrCachedFailure):
		return dns.ExtendedErrorCodeCachedError // RFC 9520 section 3.1
	case errors.Is(err, resolver.ErrNoReachableAuthority), errors.Is(err, context.DeadlineExceeded):
		return dns.ExtendedErrorCodeNoReachableAuthority
	case errors.Is(err, resolver.ErrBadReply):
		return dns.ExtendedErrorCodeNetworkError
	}
	return dns.ExtendedErrorCodeOther
}

// errorText is err as an EDE's EXTRA-TEXT: one line, bounded.
func errorText(err error) string {
	text := strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(text) > maxExtraText {
		text = text[:maxExtraText]
	}
	return text
}

// staleEDE is the Extended DNS Error code of an expired answer served
// under RFC 8767 with rcode: Stale NXDOMAIN Answer for a name error,
// Stale Answer otherwise (RFC 8914 sections 4.4 and 4.20).
func staleEDE(rcode int) uint16 {
	if rcode == dns.RcodeNameError {
		return dns.ExtendedErrorCodeStaleNXDOMAINAnswer
	}
	return dns.ExtendedErrorCodeStaleAnswer
}

// isMetaType reports whether t is a pseudo-type that may not appear in a
// question (RFC 6895 section 3.1), other than AXFR, IXFR and ANY, which
// have answers of their own.
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
