package resolver

import (
	"crypto/x509"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/histogram"
)

// Query is a question with the DNSSEC bits of the query that asked it,
// which answers are cached under. It is an alias of an unnamed struct type
// so that a cache package declaring the same shape (cache.Query) shares
// it without either importing the other.
type Query = struct {
	dns.Question
	DO bool // the query set DNSSEC OK (RFC 3225)
	CD bool // the query set Checking Disabled (RFC 4035 section 3.2.2)
}

// Cache is what the resolver needs from a cache. Everything it returns is
// the caller's to modify, and TTLs are the remaining ones at now.
type Cache interface {
	// Answer returns a fresh cached reply to q. refresh asks the caller,
	// and no other, to refresh the entry now: it is about to expire.
	Answer(q Query, now time.Time) (m *dns.Msg, refresh, ok bool)
	// Known returns a fresh cached reply to q, as Answer does, but as the
	// resolver's own bookkeeping rather than an answer lookup: it is not
	// counted, and asks for no refresh.
	Known(q Query, now time.Time) (*dns.Msg, bool)
	// StaleAnswer returns an expired reply to q kept to be served stale
	// (RFC 8767), its TTLs set to what a stale answer carries.
	StaleAnswer(q Query, now time.Time) (*dns.Msg, bool)
	// StoreAnswer caches m as the reply to q, if it may be cached, and
	// returns the reply as the cache will serve it (TTLs clamped by its
	// limits), or m itself when it was not cached.
	StoreAnswer(q Query, m *dns.Msg, now time.Time) *dns.Msg
	// Delegation returns the cached referral (NS in the authority
	// section, addresses in the additional) for exactly zone.
	Delegation(zone string, now time.Time) (*dns.Msg, bool)
	// StoreDelegation caches the referral m for zone.
	StoreDelegation(zone string, m *dns.Msg, now time.Time)
	// NameError returns the cached NXDOMAIN (with its SOA) that says name
	// does not exist, whatever the type.
	NameError(name string, now time.Time) (*dns.Msg, bool)
	// StoreNameError caches m, an NXDOMAIN, as proof that name does not exist.
	StoreNameError(name string, m *dns.Msg, now time.Time)
}

// Clock tells the time; tests move a fake one by hand.
type Clock interface {
	Now() time.Time
}

// Options configures a Resolver. Hints and UpstreamPort are required: the
// resolver never chooses the real root servers by itself.
type Options struct {
	Hints        Hints  // root servers to start from
	UpstreamPort uint16 // port every upstream server is asked on
	IPv6         bool   // also ask servers at IPv6 addresses

	// QNameMinimisation sends each zone only one label more than it is
	// known to hold (RFC 9156, relaxed mode).
	QNameMinimisation bool

	// AllowUpstream, when not empty, is the only space of addresses the
	// resolver will send queries to; a server elsewhere is skipped as if
	// it had no address. The lab sets it to Loopback.
	AllowUpstream []netip.Prefix
	// DenyUpstream is address space never sent to, even if allowed: for
	// the public internet, NonPublic.
	DenyUpstream []netip.Prefix

	// Local zones are answered first and never asked upstream.
	Local LocalZones
	// Forward zones: names under a Zone are asked of its Servers, which
	// are recursive resolvers, instead of walked to.
	Forward []ZoneServers
	// Stub zones: names under a Zone are walked to starting at its
	// Servers, authoritative for it, instead of from the root.
	Stub []ZoneServers
	// TLSRoots verify the certificates of forward and stub servers asked
	// over TLS (ZoneServers.TLS); nil: the system's roots.
	TLSRoots *x509.CertPool

	// Prefetch refreshes a cached answer asked for in the last tenth of
	// its TTL in the background, so that clients never wait for it.
	Prefetch bool
	// ServeStale answers from an expired cache entry (RFC 8767) when a
	// question's authorities fail, or when no answer has come within
	// StaleAnswerAfter; the cache decides how long entries are kept.
	ServeStale bool
	// StaleAnswerAfter is the client-response timer of RFC 8767; 0:
	// DefaultStaleAnswerAfter.
	StaleAnswerAfter time.Duration

	// MaxServerQPS bounds the queries a second sent to any one server
	// address, so that no stream of client questions turns the resolver
	// into a flood against a server: past it, the server is skipped as if
	// it had not answered. 0: DefaultMaxServerQPS; negative: no limit.
	MaxServerQPS float64
	// MaxOutstanding bounds the upstream queries awaiting replies at once;
	// past it, a query waits for a slot within its deadline. 0:
	// DefaultMaxOutstanding; negative: no bound.
	MaxOutstanding int

	// CookieSecret derives the client cookies sent to servers (RFC 7873);
	// nil: a random secret for the life of the resolver.
	CookieSecret []byte

	// TrustAnchors turn DNSSEC validation on: DS or DNSKEY records of the
	// zones trusted without proof (the root's, as IANA publishes them,
	// or the lab's; ParseTrustAnchors reads them from a file). Empty: no
	// validation. See validate.go.
	TrustAnchors []dns.RR
	// AnchorStateFile, when not empty, keeps the root's trust anchors
	// current by RFC 5011: the root's anchors among TrustAnchors only
	// start the tracking, and the keys the root has rolled to since are
	// saved in this file (resolver/internal/anchors).
	AnchorStateFile string
	// NegativeTrustAnchors are zones whose names are not validated (RFC
	// 7646): their answers are given as insecure, for zones whose DNSSEC
	// is known broken.
	NegativeTrustAnchors []string
	// ValidationTime, when not zero, is the time signatures are checked
	// against instead of the clock's, for debugging (Unbound's
	// val-override-date).
	ValidationTime time.Time

	Timeout   time.Duration // bound on one resolution; 0: DefaultTimeout
	Exchanger Exchanger     // nil: NetExchanger{}
	Cache     Cache         // nil: nothing is cached
	// Shared is a cache tier shared with other resolvers (a fleet's, in
	// Redis), asked when Cache misses a client's question and given
	// every answer a walk finds; nil: none.
	Shared SharedCache
	Clock  Clock        // nil: the system clock
	Rand   rand.Source  // query IDs and server order; nil: a random seed
	Logger *slog.Logger // nil: discard
}

// Stats are the resolver's counters since it was created.
type Stats struct {
	Resolutions      uint64             // client questions resolved, successfully or not
	Failures         uint64             // resolutions that ended in an error
	InFlight         int64              // resolutions under way now
	UpstreamQueries  uint64             // exchanges started
	UpstreamTimeouts uint64             // exchanges that got no reply in time
	TCPFallbacks     uint64             // exchanges retried over TCP after truncation
	UpstreamErrors   uint64             // other failed exchanges (network errors, bad replies)
	RateLimited      uint64             // queries not sent: their server's rate limit was reached
	UpstreamRTT      histogram.Snapshot // round-trip times of the exchanges that got a reply
	Prefetches       uint64             // cached answers refreshed before they expired
	PrefetchFailures uint64             // of those, the refreshes that failed
	StaleAnswers     uint64             // expired answers served because no fresh one came
	// AggressiveNXDOMAIN counts name errors answered from validated NSEC
	// records already cached, without asking upstream (RFC 8198).
	AggressiveNXDOMAIN uint64
}

// Result is the outcome of one resolution.
type Result struct {
	// Reply holds the rcode, the answer section (any CNAME/DNAME chain
	// first) and, for a negative answer, the SOA in the authority
	// section. Header fields other than Rcode are not set. It is the
	// caller's.
	Reply *dns.Msg
	// Upstream counts the queries sent to resolve it; 0 means the whole
	// answer came from the cache.
	Upstream int
	// Shared is set when the walk answered other callers, who asked the
	// same question at the same time, too.
	Shared bool
	// Stale is set when Reply is an expired answer from the cache, given
	// because no fresh one could be had in time (RFC 8767).
	Stale bool
}
