package config

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Keys of every setting, as written in the YAML file. The validation code
// refers to settings through these constants so that a misspelt key fails to
// compile instead of silently reading nothing.
const (
	keyConfig       = "config"
	keyListen       = "listen"
	keyRootHints    = "root_hints"
	keyUpstreamPort = "upstream_port"
	keyIPv6         = "ipv6"
	keyLabEnabled   = "lab.enabled"
	keyLabPort      = "lab.port"
	keyLabLoss      = "lab.loss"
	keyLabAnchorOut = "lab.anchor_out"
	keyAdminListen  = "admin.listen"
	keyAdminToken   = "admin.token"
	keyAdminHosts   = "admin.allowed_hosts"
	keyDoTListen    = "dot.listen"
	keyDoHListen    = "doh.listen"
	keyDoHHTTP      = "doh.http_listen"
	keyDoHProxies   = "doh.trusted_proxies"
	keyDoQListen    = "doq.listen"
	keyTLSCert      = "tls.cert_file"
	keyTLSKey       = "tls.key_file"
	keyTLSCA        = "tls.ca_file"
	keyCacheSize    = "cache.size"
	keyCacheMemory  = "cache.memory"
	keyCacheFile    = "cache.file"
	keyCacheMinTTL  = "cache.min_ttl"
	keyCacheMaxTTL  = "cache.max_ttl"
	keyCacheNegTTL  = "cache.negative_max_ttl"
	keyCachePolicy  = "cache.policy"
	keyServeStale   = "cache.serve_stale"
	keyStaleMaxAge  = "cache.stale_max_age"
	keyPrefetch     = "cache.prefetch"
	keyRedisAddr    = "cache.redis.addr"
	keyRedisSeed    = "cache.redis.seed"
	keyRedisTimeout = "cache.redis.timeout"
	keyACLAllow     = "acl.allow"
	keyACLDeny      = "acl.deny"
	keyACLAction    = "acl.action"
	keyRateQPS      = "ratelimit.qps"
	keyRateBurst    = "ratelimit.burst"
	keyRateAction   = "ratelimit.action"
	keyMaxRecursion = "limits.max_recursions"
	keyIdentity     = "server.identity"
	keyLogLevel     = "log.level"
	keyLogFormat    = "log.format"
	keyLogQueries   = "log.queries"
	keyAllowPrivate = "upstream.allow_private"
	keyUpstreamQPS  = "upstream.max_qps_per_server"
	keyOutstanding  = "upstream.max_outstanding"
	keyCookieSecret = "server.cookie_secret"
	keyTCPIdle      = "tcp.idle_timeout"
	keyTCPConns     = "tcp.max_connections"
	keyTCPPerClient = "tcp.max_connections_per_client"
	keyQNameMin     = "qname_minimisation"
	keyForwardZones = "forward_zones"
	keyStubZones    = "stub_zones"
	keyLocalZones   = "local_zones"
	keyDNSSECOn     = "dnssec.enabled"
	keyTrustAnchor  = "dnssec.trust_anchor"
	keyNTAs         = "dnssec.negative_trust_anchors"
	keyAnchorState  = "dnssec.anchor_state_file"
	keyOverrideDate = "dnssec.override_date"
)

// envPrefix starts the environment variable of every setting (DESIGN.md,
// "Configuration: one name, three spellings").
const envPrefix = "ROOTWALK_"

// defaultConfigFile is read from the working directory when neither --config
// nor ROOTWALK_CONFIG names a file; its absence is not an error.
const defaultConfigFile = "rootwalk.yaml"

// setting is one row of the settings table: the single place where a key,
// its default, its flag and its help text are declared.
type setting struct {
	// key is the YAML key, snake_case, grouped with dots.
	key string
	// def is the default: a string, bool, int, float64 or []string. Its Go
	// type also picks the flag type, and []string marks a list setting.
	def any
	// usage is the flag's help text. A word in `backquotes` names the
	// flag's argument in --help, as pflag.UnquoteUsage does.
	usage string
	// flag overrides the flag name derived from key; empty means derived.
	flag string
	// aliases are further flag names for the same setting, kept forever.
	aliases []string
	// notInFile marks a setting that only a flag or the environment may set.
	notInFile bool
}

// settings is the table of every setting, in the order --help lists them and
// errors are reported. The defaults follow DESIGN.md.
var settings = []setting{
	{
		key:       keyConfig,
		def:       "",
		usage:     "read settings from the YAML `FILE` (default ./rootwalk.yaml if present)",
		notInFile: true,
	},
	{
		key:   keyListen,
		def:   "127.0.0.1:53",
		usage: "answer clients on `ADDR:PORT`, UDP and TCP",
	},
	{
		key:   keyRootHints,
		def:   "iana",
		usage: "root hints: iana (embedded IANA named.root), lab (the lab's roots) or a named.root-format `FILE`",
	},
	{
		key:   keyUpstreamPort,
		def:   53,
		usage: "ask every upstream server on port `N`",
	},
	{
		key:   keyIPv6,
		def:   true,
		usage: "ask upstream servers over IPv6 too",
	},
	{
		key:   keyAllowPrivate,
		def:   false,
		usage: "with the iana hints, also ask servers at private, loopback and link-local addresses (refused by default)",
	},
	{
		key:   keyUpstreamQPS,
		def:   10000.0,
		usage: "send any one server at most `QPS` queries a second (past it, its zone's other servers are asked); 0: no limit",
	},
	{
		key:   keyOutstanding,
		def:   4096,
		usage: "have at most `N` queries awaiting replies upstream at once (the rest wait); 0: no bound",
	},
	{
		key:   keyQNameMin,
		def:   true,
		usage: "send each zone only one label more than it is known to hold (RFC 9156, relaxed mode)",
	},
	{
		key:   keyForwardZones,
		def:   []string{},
		usage: "send queries for names under a zone to recursive resolvers: `ZONE=ADDR[:PORT][+ADDR[:PORT]...]`, a server written tls://ADDR[:PORT][#NAME] asked over TLS; repeatable",
	},
	{
		key:   keyStubZones,
		def:   []string{},
		usage: "walk names under a zone from its authoritative servers: `ZONE=ADDR[:PORT][+ADDR[:PORT]...]`, repeatable",
	},
	{
		key:   keyLocalZones,
		def:   "",
		usage: "answer the zones of the master files (`DIR`/<zone>.zone) in this folder locally; empty: none",
	},
	{
		key:   keyDNSSECOn,
		def:   true,
		usage: "validate DNSSEC: from IANA's root keys with the iana hints, from the lab's with --lab, else only with --dnssec-trust-anchor",
	},
	{
		key:     keyTrustAnchor,
		def:     "",
		usage:   "DNSSEC trust anchors: DS or DNSKEY records in master-file form in `FILE` (as Unbound's trust-anchor-file); empty: the default for the hints",
		aliases: []string{"trust-anchor"},
	},
	{
		key:   keyAnchorState,
		def:   "",
		usage: "keep the root's trust anchors current by RFC 5011 in `FILE` (created if missing), as Unbound's auto-trust-anchor-file; not with the lab, whose keys are new each run; empty: the configured anchors only",
	},
	{
		key:   keyNTAs,
		def:   []string{},
		usage: "negative trust anchors (RFC 7646): names under `ZONE` are not validated, for zones whose DNSSEC is known broken; repeatable",
		flag:  "negative-trust-anchor",
	},
	{
		key:   keyOverrideDate,
		def:   "",
		usage: "check signature validity as of `YYYYMMDDhhmmss` (UTC) instead of now, for debugging, as Unbound's val-override-date; empty: now",
		flag:  "dnssec-override-date",
	},
	{
		key:   keyLabEnabled,
		def:   false,
		usage: "start the embedded lab in-process and resolve against it",
		flag:  "lab",
	},
	{
		key:   keyLabPort,
		def:   10053,
		usage: "serve the lab on port `N`",
	},
	{
		key:   keyLabLoss,
		def:   0.0,
		usage: "have every lab server drop a `SHARE` of its UDP queries (0.05: every 20th), as a lossy network would",
	},
	{
		key:   keyLabAnchorOut,
		def:   "",
		usage: "rootwalk lab: write the lab's trust anchor (its root's DS records) to `FILE` instead of printing it after the hints",
		flag:  "anchor-out",
	},
	{
		key:     keyAdminListen,
		def:     "127.0.0.1:9153",
		usage:   "serve the HTTP admin API on `ADDR:PORT`; empty disables it",
		aliases: []string{"admin"},
	},
	{
		key:   keyAdminToken,
		def:   "",
		usage: "if set, the admin API requires \"Authorization: Bearer `T`\"",
	},
	{
		key:   keyDoTListen,
		def:   "",
		usage: "answer DNS over TLS (RFC 7858) on `ADDR:PORT`, such as 127.0.0.1:853; empty: off",
	},
	{
		key:   keyDoHListen,
		def:   "",
		usage: "answer DNS over HTTPS (RFC 8484, /dns-query, HTTP/2) on `ADDR:PORT`, such as 127.0.0.1:443; empty: off",
	},
	{
		key:   keyDoHHTTP,
		def:   "",
		usage: "answer DNS over plain HTTP at /dns-query on `ADDR:PORT`, for a reverse proxy that terminates TLS; empty: off",
	},
	{
		key:   keyDoHProxies,
		def:   []string{},
		usage: "believe X-Forwarded-For from these `CIDR`s only (the reverse proxies in front of doh.http_listen or doh.listen; repeatable)",
	},
	{
		key:   keyDoQListen,
		def:   "",
		usage: "answer DNS over QUIC (RFC 9250) on UDP `ADDR:PORT`, such as 127.0.0.1:853; empty: off",
	},
	{
		key:   keyTLSCert,
		def:   "",
		usage: "PEM certificate `FILE` (chain) for dot.listen, doh.listen and doq.listen; rootwalk cert makes one",
	},
	{
		key:   keyTLSKey,
		def:   "",
		usage: "PEM private key `FILE` for tls.cert_file",
	},
	{
		key:   keyTLSCA,
		def:   "",
		usage: "verify forward and stub servers asked over TLS (tls:// in forward_zones) against the CA certificates in this PEM `FILE`; empty: the system's",
	},
	{
		key:   keyAdminHosts,
		def:   []string{},
		usage: "names by which browsers may reach the admin API and its console, besides IP addresses and localhost (repeatable; a guard against DNS rebinding)",
	},
	{
		key:   keyCacheSize,
		def:   100000,
		usage: "keep at most `N` entries across the caches",
	},
	{
		key:   keyCacheMemory,
		def:   "128MiB",
		usage: "keep at most `SIZE` bytes across the caches (B, KB, MB, GB, KiB, MiB, GiB)",
	},
	{
		key:   keyCacheFile,
		def:   "",
		usage: "write the cache to `FILE` on clean shutdown and load it at start; empty: off",
	},
	{
		key:   keyCacheMinTTL,
		def:   "0s",
		usage: "cache nothing for less than `DURATION` (TTLs below are raised)",
	},
	{
		key:   keyCacheMaxTTL,
		def:   "24h",
		usage: "cache nothing for more than `DURATION` (TTLs above are lowered)",
	},
	{
		key:   keyCacheNegTTL,
		def:   "1h",
		usage: "cache NXDOMAIN and NODATA answers for at most `DURATION`",
	},
	{
		key:   keyCachePolicy,
		def:   "lru",
		usage: "evict by `POLICY`: lru (least recently used) or 2q (LRU that resists one-off scans)",
	},
	{
		key:   keyServeStale,
		def:   true,
		usage: "answer from expired entries, with TTL 30, when the authorities fail or take over 1.8 s (RFC 8767)",
	},
	{
		key:   keyStaleMaxAge,
		def:   "24h",
		usage: "keep expired entries for serving stale for at most `DURATION`; 0s keeps none",
	},
	{
		key:   keyPrefetch,
		def:   true,
		usage: "refresh an entry asked for shortly before it expires",
	},
	{
		key:   keyRedisAddr,
		def:   "",
		usage: "share answers with a fleet of instances through the Redis at `ADDR` (host:port, or a redis:// or rediss:// URL); empty: none",
	},
	{
		key:   keyRedisSeed,
		def:   "",
		usage: "the `SECRET` every instance of a fleet shares, hashed into each Redis key",
	},
	{
		key:   keyRedisTimeout,
		def:   "50ms",
		usage: "bound each call to Redis by `DURATION` (1ms to 1s); past it, the answer is looked for upstream",
	},
	{
		key: keyACLAllow,
		def: []string{
			"127.0.0.0/8", "::1/128", // loopback
			"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", // RFC 1918
			"fc00::/7",                    // unique local, RFC 4193
			"169.254.0.0/16", "fe80::/10", // link-local
		},
		usage: "answer clients from `CIDR` (repeatable; a bare IP is one host)",
	},
	{
		key:   keyACLDeny,
		def:   []string{},
		usage: "refuse clients from `CIDR`, even if allowed (repeatable)",
	},
	{
		key:   keyACLAction,
		def:   "refuse",
		usage: "what clients outside the ACL get, as `ACTION`: refuse (a REFUSED reply) or drop (no reply at all)",
	},
	{
		key:   keyRateQPS,
		def:   0.0,
		usage: "answer each client (an IPv4 address, an IPv6 /64) at most `QPS` queries a second on average; 0: no limit",
	},
	{
		key:   keyRateBurst,
		def:   0,
		usage: "let a client send up to `N` queries in a burst before ratelimit.qps holds it back; 0: twice ratelimit.qps",
	},
	{
		key:   keyRateAction,
		def:   "refuse",
		usage: "what a query over ratelimit.qps gets, as `ACTION`: refuse (a REFUSED reply) or drop (no reply at all)",
	},
	{
		key:   keyMaxRecursion,
		def:   2000,
		usage: "resolve at most `N` client queries at once; past that, cached answers or SERVFAIL",
	},
	{
		key:   keyIdentity,
		def:   "",
		usage: "answer id.server and hostname.bind (CHAOS TXT) with `NAME`, and version.bind with the version; empty: refuse them",
	},
	{
		key:   keyTCPIdle,
		def:   "10s",
		usage: "close a client's TCP connection after `DURATION` with no query in flight (RFC 7766)",
	},
	{
		key:   keyTCPConns,
		def:   1000,
		usage: "keep at most `N` client TCP connections open at once; 0: no bound",
	},
	{
		key:   keyTCPPerClient,
		def:   100,
		usage: "keep at most `N` TCP connections open from one client address; 0: no bound",
	},
	{
		key:   keyCookieSecret,
		def:   "",
		usage: "derive DNS cookies (RFC 7873, RFC 9018) from `HEX`, 32 hex digits shared by instances behind one address; empty: a random secret per process",
	},
	{
		key:   keyLogLevel,
		def:   "info",
		usage: "log at `LEVEL`: debug, info, warn or error",
	},
	{
		key:   keyLogFormat,
		def:   "text",
		usage: "log as `FORMAT`: text or json",
	},
	{
		key:   keyLogQueries,
		def:   false,
		usage: "log every answered query at Info (client, name, type, rcode, latency, cache hit); switchable at run time with POST /querylog",
	},
}

// settingIndex finds a setting by key.
var settingIndex = func() map[string]*setting {
	m := make(map[string]*setting, len(settings))
	for i := range settings {
		m[settings[i].key] = &settings[i]
	}
	return m
}()

// envIndex finds a setting by its environment variable.
var envIndex = func() map[string]*setting {
	m := make(map[string]*setting, len(settings))
	for i := range settings {
		m[settings[i].envName()] = &settings[i]
	}
	return m
}()

// flagName is the setting's flag: the key with "." and "_" written as "-",
// unless the table names another.
func (s *setting) flagName() string {
	if s.flag != "" {
		return s.flag
	}
	return strings.NewReplacer(".", "-", "_", "-").Replace(s.key)
}

// envName is the setting's environment variable: ROOTWALK_ and the key
// upper-cased, with "." written as "_".
func (s *setting) envName() string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

// isList reports whether the setting holds a list.
func (s *setting) isList() bool {
	_, ok := s.def.([]string)
	return ok
}

// flagNames lists the setting's flag and its aliases.
func (s *setting) flagNames() []string {
	return append([]string{s.flagName()}, s.aliases...)
}

// defaultValue returns a copy of the default, safe to hand to code that may
// append to it.
func (s *setting) defaultValue() any {
	if l, ok := s.def.([]string); ok {
		return slices.Clone(l)
	}
	return s.def
}

// RegisterFlags adds the flag of every setting, and its aliases, to fs, with
// the default and help text from the settings table; given keys, only
// those settings' flags (and --config). Each help line ends with the
// setting's environment variable. An alias shares its flag's value, so
// whichever spelling comes last on the command line wins. Settings without
// a flag can still come from the file and the environment. RegisterFlags
// panics, as pflag does, if fs already defines one of these flags, and on
// a key that is not a setting (a programming error).
func RegisterFlags(fs *pflag.FlagSet, keys ...string) {
	for _, k := range keys {
		if !slices.ContainsFunc(settings, func(s setting) bool { return s.key == k }) {
			panic("config.RegisterFlags: no setting " + k)
		}
	}
	for i := range settings {
		s := &settings[i]
		if len(keys) > 0 && s.key != keyConfig && !slices.Contains(keys, s.key) {
			continue
		}
		name := s.flagName()
		usage := s.usage + " (env " + s.envName() + ")"
		switch d := s.defaultValue().(type) {
		case string:
			fs.String(name, d, usage)
		case bool:
			fs.Bool(name, d, usage)
		case int:
			fs.Int(name, d, usage)
		case float64:
			fs.Float64(name, d, usage)
		case []string:
			fs.StringSlice(name, d, usage)
		}
		f := fs.Lookup(name)
		aliasUsage := "alias of --" + name
		if arg, _ := pflag.UnquoteUsage(f); arg != "" {
			aliasUsage += " `" + arg + "`"
		}
		for _, alias := range s.aliases {
			fs.AddFlag(&pflag.Flag{
				Name:        alias,
				Usage:       aliasUsage,
				Value:       f.Value,
				DefValue:    f.DefValue,
				NoOptDefVal: f.NoOptDefVal,
			})
		}
	}
}

// changedFlag returns the flag, among the setting's spellings, that the user
// set on the command line, or nil. fs may be nil or lack the flags.
func (s *setting) changedFlag(fs *pflag.FlagSet) *pflag.Flag {
	if fs == nil {
		return nil
	}
	for _, name := range s.flagNames() {
		if f := fs.Lookup(name); f != nil && f.Changed {
			return f
		}
	}
	return nil
}
