package config

import (
	"log/slog"
	"net/netip"
	"time"
)

// Config is the validated, typed configuration of rootwalk. Load returns it;
// cmd copies its fields into each package's Options. A Config is a plain
// value: safe for concurrent reads, never changed by this package after Load.
type Config struct {
	// File is the YAML file that was read, or empty if none was.
	File string
	// Listen is where clients are answered, over UDP and TCP.
	Listen netip.AddrPort
	// RootHints says where the resolver gets the root servers from. With
	// Lab.Enabled it is always HintsLab.
	RootHints RootHints
	// UpstreamPort is the port on which every upstream server is asked.
	// With Lab.Enabled it is always Lab.Port.
	UpstreamPort uint16
	// IPv6 says whether upstream servers are asked over IPv6 too.
	IPv6 bool
	// AllowPrivateUpstream lets a resolver on the iana hints ask servers
	// at private, loopback and other non-public addresses
	// (upstream.allow_private).
	AllowPrivateUpstream bool
	// QNameMinimisation sends each zone only the labels it needs (RFC 9156).
	QNameMinimisation bool
	// ForwardZones are asked of recursive resolvers instead of walked.
	ForwardZones []ZoneServers
	// StubZones are walked from their configured authoritative servers.
	StubZones []ZoneServers
	// LocalZones is a folder of <zone>.zone files answered locally; empty
	// for none.
	LocalZones string
	// Lab configures the embedded lab.
	Lab Lab
	// Admin configures the HTTP admin API.
	Admin Admin
	// Transports are the encrypted listeners and their certificate.
	Transports Transports
	// Cache bounds the answer caches.
	Cache Cache
	// ACL says which clients are answered.
	ACL ACL
	// RateLimit bounds each client's query rate.
	RateLimit RateLimit
	// Limits bounds the work the resolver takes on for all clients together.
	Limits Limits
	// Server is what the server says about itself.
	Server Server
	// TCP bounds client TCP connections.
	TCP TCP
	// Log configures log/slog output.
	Log Log
	// DNSSEC configures validation.
	DNSSEC DNSSEC
}

// DNSSEC is the dnssec.* settings.
type DNSSEC struct {
	// Enabled turns validation on, when there is a trust anchor: the one
	// of TrustAnchor, or else IANA's root keys with the iana hints, or
	// the lab's with lab.enabled.
	Enabled bool
	// TrustAnchor is a readable file of DS or DNSKEY records; empty for
	// the default of the hints.
	TrustAnchor string
	// AnchorStateFile keeps the root's anchors current by RFC 5011; empty
	// for none.
	AnchorStateFile string
	// NegativeTrustAnchors are zones whose names are not validated (RFC
	// 7646), fully qualified and lower-case.
	NegativeTrustAnchors []string
	// OverrideDate, when not zero, is the time signatures are checked
	// against instead of now.
	OverrideDate time.Time
}

// HintsKind says which root hints the resolver starts from.
type HintsKind int

// The kinds of root hints.
const (
	// HintsIANA is the IANA named.root embedded in the binary.
	HintsIANA HintsKind = iota
	// HintsLab is the roots of the embedded lab.
	HintsLab
	// HintsFile is a named.root-format file, RootHints.Path.
	HintsFile
)

// String returns the kind as spelt in the configuration ("iana", "lab") or
// "file".
func (k HintsKind) String() string {
	switch k {
	case HintsIANA:
		return "iana"
	case HintsLab:
		return "lab"
	case HintsFile:
		return "file"
	default:
		return "unknown"
	}
}

// RootHints is the root_hints setting.
type RootHints struct {
	// Kind is the source of the hints.
	Kind HintsKind
	// Path is the named.root-format file when Kind is HintsFile, as written
	// by the user (a relative path is relative to the working directory);
	// empty otherwise. Load checked that it was a readable regular file.
	Path string
}

// Lab is the lab.* settings.
type Lab struct {
	// Enabled starts the embedded lab in-process and resolves against it.
	Enabled bool
	// Port is the port every lab server listens on.
	Port uint16
	// Loss is the share of UDP queries every lab server drops, 0 to 0.5.
	Loss float64
	// AnchorOut is the file rootwalk lab writes the lab's trust anchor
	// to; empty prints it after the root hints.
	AnchorOut string
}

// Admin is the admin.* settings.
type Admin struct {
	// Listen is the address of the HTTP admin API; the zero AddrPort (not
	// IsValid) means the admin API is disabled.
	Listen netip.AddrPort
	// Token, if not empty, is required as "Authorization: Bearer Token".
	Token string
	// AllowedHosts are the names, besides IP addresses and localhost, by
	// which clients may reach the admin API (its Host header).
	AllowedHosts []string
}

// Transports configures the encrypted listeners: DNS over TLS, HTTPS and
// QUIC. A zero address (not IsValid) is a listener turned off.
type Transports struct {
	DoT     netip.AddrPort // dot.listen
	DoH     netip.AddrPort // doh.listen (HTTPS)
	DoHHTTP netip.AddrPort // doh.http_listen (plain HTTP, behind a proxy)
	DoQ     netip.AddrPort // doq.listen (UDP)
	// TrustedProxies may set X-Forwarded-For (doh.trusted_proxies).
	TrustedProxies []netip.Prefix
	// CertFile and KeyFile are the PEM certificate chain and key of the
	// TLS listeners (tls.cert_file, tls.key_file).
	CertFile, KeyFile string
	// CAFile holds the CA certificates (PEM) that forward and stub
	// servers over TLS are verified against; empty: the system's
	// (tls.ca_file).
	CAFile string
}

// NeedTLS reports whether a listener needs the certificate.
func (t Transports) NeedTLS() bool { return t.DoT.IsValid() || t.DoH.IsValid() || t.DoQ.IsValid() }

// Enabled reports whether the admin API should be served.
func (a Admin) Enabled() bool { return a.Listen.IsValid() }

// Cache is the cache.* settings. Of Size and Memory, whichever bound is hit
// first evicts. The TTL clamps (MinTTL, MaxTTL, NegativeMaxTTL) are whole
// seconds, as DNS TTLs are (RFC 2181, section 8): any fraction the user wrote
// is dropped, and MinTTL <= MaxTTL.
type Cache struct {
	// Size is the most entries kept across the caches, at least 1.
	Size int
	// Memory is the most bytes kept across the caches, at least 1 MiB.
	Memory int64
	// File is where the cache is written on clean shutdown and loaded
	// from at start, as written by the user; empty means neither. The file
	// need not exist.
	File string
	// MinTTL is the least time an answer is cached: smaller TTLs are
	// raised to it. At least 0, at most MaxTTL.
	MinTTL time.Duration
	// MaxTTL is the most time an answer is cached: larger TTLs are
	// lowered to it. At least 1s.
	MaxTTL time.Duration
	// NegativeMaxTTL is the most time an NXDOMAIN or NODATA answer is
	// cached (RFC 2308, section 5). At least 1s.
	NegativeMaxTTL time.Duration
	// Policy is how the caches choose what to evict.
	Policy CachePolicy
	// ServeStale answers from expired entries when no upstream server
	// answers (RFC 8767).
	ServeStale bool
	// StaleMaxAge is how long past its expiry an entry is kept for
	// ServeStale; 0 keeps nothing stale. At least 0.
	StaleMaxAge time.Duration
	// Prefetch refreshes an entry that is asked for shortly before it
	// expires.
	Prefetch bool
	// Redis is the cache tier a fleet of instances shares.
	Redis Redis
}

// Redis configures the cache tier a fleet shares in Redis.
type Redis struct {
	// Addr is host:port or a redis:// or rediss:// URL; empty: no shared
	// cache.
	Addr string
	// Seed is the secret every instance of the fleet shares, hashed into
	// each key.
	Seed string
	// Timeout bounds each call to Redis, from 1ms to 1s.
	Timeout time.Duration
}

// CachePolicy is how the caches choose what to evict.
type CachePolicy string

// The cache policies.
const (
	// CacheLRU evicts the least recently used entry.
	CacheLRU CachePolicy = "lru"
	// Cache2Q keeps entries used once apart from entries used again, so
	// that a scan of one-off names does not evict the popular ones
	// (Johnson and Shasha, "2Q", VLDB 1994).
	Cache2Q CachePolicy = "2q"
)

// ACL is the acl.* settings. A client is answered if its address is in some
// Allow prefix and in no Deny prefix: deny wins.
type ACL struct {
	// Allow lists the prefixes whose clients are answered, masked.
	Allow []netip.Prefix
	// Deny lists the prefixes whose clients are refused, masked.
	Deny []netip.Prefix
	// Action is what a client outside the ACL gets.
	Action Action
}

// Action is what a query that will not be answered normally gets: a
// REFUSED reply, or none at all.
type Action string

// The actions.
const (
	// ActionRefuse answers REFUSED: the client learns at once that it
	// should ask elsewhere.
	ActionRefuse Action = "refuse"
	// ActionDrop sends nothing back: a flood with forged sources reflects
	// nothing onto the addresses it forges.
	ActionDrop Action = "drop"
)

// RateLimit is the ratelimit.* settings: a token bucket per client, where
// a client is an IPv4 address or an IPv6 /64.
type RateLimit struct {
	// QPS is the queries a second a client may send on average; 0 turns
	// rate limiting off. At least 0.
	QPS float64
	// Burst is how many queries a client may send at once; at least 1 when
	// QPS is set: a burst left at 0 is twice QPS, rounded up.
	Burst int
	// Action is what a client over its rate gets.
	Action Action
}

// Enabled reports whether clients' query rates are limited.
func (r RateLimit) Enabled() bool { return r.QPS > 0 }

// Limits is the limits.* settings.
type Limits struct {
	// MaxRecursions is the most client queries resolved at once; at
	// least 1. A query past it gets a cached answer or SERVFAIL.
	MaxRecursions int
	// UpstreamQPS (upstream.max_qps_per_server) is the most queries a
	// second sent to one server; 0: no limit.
	UpstreamQPS float64
	// UpstreamOutstanding (upstream.max_outstanding) is the most queries
	// awaiting replies upstream at once; 0: no bound.
	UpstreamOutstanding int
}

// TCP is the tcp.* settings: how long client connections may idle and how
// many may be open.
type TCP struct {
	// IdleTimeout closes a connection quiet this long with no query in
	// flight; at least 100 ms.
	IdleTimeout time.Duration
	// MaxConns bounds the connections open at once; 0: no bound.
	MaxConns int
	// MaxConnsPerClient bounds them per client address; 0: no bound.
	MaxConnsPerClient int
}

// Server is the server.* settings.
type Server struct {
	// Identity, if not empty, answers the CHAOS-class TXT queries
	// id.server and hostname.bind (RFC 4892), and lets version.bind and
	// version.server be answered; empty refuses all four. At most 255
	// bytes, one TXT string.
	Identity string
	// CookieSecret (server.cookie_secret) is the 16-byte secret DNS
	// cookies are derived from; nil: a random one per process.
	CookieSecret []byte
}

// LogFormat is how log records are written.
type LogFormat string

// The log formats.
const (
	// LogText selects slog.TextHandler.
	LogText LogFormat = "text"
	// LogJSON selects slog.JSONHandler.
	LogJSON LogFormat = "json"
)

// Log is the log.* settings.
type Log struct {
	// Level is the least severe level logged.
	Level slog.Level
	// Format is the handler to log with.
	Format LogFormat
	// Queries turns on the query log: a line per answered query.
	Queries bool
}

// ZoneServers is one forward_zones or stub_zones entry.
type ZoneServers struct {
	// Zone is the zone's name, lower-case and fully qualified.
	Zone string
	// Servers are the addresses to ask, with their ports.
	Servers []netip.AddrPort
	// TLS holds the servers asked over DNS over TLS (RFC 7858), written
	// tls://ADDR[:PORT][#NAME], with the name their certificate must
	// carry ("": their address).
	TLS map[netip.AddrPort]string
}
