package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// What each setting accepts, as the "want" of its errors.
const (
	wantListen      = "IP:PORT such as 127.0.0.1:53"
	wantAdminListen = "IP:PORT such as 127.0.0.1:9153, or empty to disable the admin API"
	wantRootHints   = "iana, lab, or the path of a readable named.root-format file"
	wantLabHints    = "iana or lab while lab.enabled is true (the lab serves its own roots)"
	wantPort        = "an integer from 1 to 65535"
	wantBool        = "true or false"
	wantString      = "a string"
	wantCacheSize   = "an integer of at least 1"
	wantCacheMemory = "a size of at least 1MiB: bytes, or a number with B, KB, MB, GB (powers of 1000) " +
		"or KiB, MiB, GiB (powers of 1024), such as 128MiB"
	wantCacheFile   = "a file path, or empty to keep no cache file"
	wantAnchorFile  = "the path of a readable file of DS or DNSKEY records, or empty"
	wantNTA         = "domain names such as broken.example, as a list"
	wantHosts       = "host names such as resolver.example.net, as a list"
	wantTLSListen   = "IP:PORT such as 127.0.0.1:853, or empty for off"
	wantPEM         = "the path of a readable PEM file"
	wantStateFile   = "a file path, or empty to track no anchors"
	wantDate        = "a UTC time as YYYYMMDDhhmmss, such as 20261127120000, or empty"
	wantDuration    = "a duration of at least 0s" + durationForm
	wantTTL         = "a duration of at least 1s" + durationForm
	wantCachePolicy = "lru or 2q"
	wantRedisAddr   = "HOST:PORT such as 127.0.0.1:6379, a redis:// or rediss:// URL, or empty for no shared cache"
	wantRedisTime   = "a duration from 1ms to 1s, such as 50ms"

	wantPrefix    = "CIDR prefixes such as 192.168.0.0/16 or fe80::/10, or IP addresses, as a list"
	wantZone      = "ZONE=SERVER[+SERVER...] entries, each SERVER ADDR[:PORT] or tls://ADDR[:PORT][#NAME], such as corp.example=10.0.0.53+tls://[fd00::53]:853#dns.corp.example, as a list"
	wantFolder    = "a folder of <zone>.zone master files, or empty"
	wantLogLevel  = "debug, info, warn or error"
	wantLogFormat = "text or json"
)

// durationForm ends the want of every duration setting: how to write one.
const durationForm = ": a number with a unit h, m, s or ms, such as 30s, 5m, 1h or 1h30m"

// rawConfig is what viper.UnmarshalExact decodes into: one field per
// setting, left untyped so that build can check every value itself and name
// key, value and source in each error. Its mapstructure tags must match the
// settings table; a test checks that they do.
type rawConfig struct {
	Listen       any          `mapstructure:"listen"`
	RootHints    any          `mapstructure:"root_hints"`
	UpstreamPort any          `mapstructure:"upstream_port"`
	IPv6         any          `mapstructure:"ipv6"`
	Lab          rawLab       `mapstructure:"lab"`
	Admin        rawAdmin     `mapstructure:"admin"`
	Cache        rawCache     `mapstructure:"cache"`
	ACL          rawACL       `mapstructure:"acl"`
	RateLimit    rawRateLimit `mapstructure:"ratelimit"`
	Limits       rawLimits    `mapstructure:"limits"`
	Server       rawServer    `mapstructure:"server"`
	TCP          rawTCP       `mapstructure:"tcp"`
	Log          rawLog       `mapstructure:"log"`
	Upstream     rawUpstream  `mapstructure:"upstream"`
	QNameMin     any          `mapstructure:"qname_minimisation"`
	ForwardZones any          `mapstructure:"forward_zones"`
	StubZones    any          `mapstructure:"stub_zones"`
	LocalZones   any          `mapstructure:"local_zones"`
	DNSSEC       rawDNSSEC    `mapstructure:"dnssec"`
	DoT          rawListen    `mapstructure:"dot"`
	DoH          rawDoH       `mapstructure:"doh"`
	DoQ          rawListen    `mapstructure:"doq"`
	TLS          rawTLS       `mapstructure:"tls"`
}

type rawListen struct {
	Listen any `mapstructure:"listen"`
}

type rawDoH struct {
	Listen         any `mapstructure:"listen"`
	HTTPListen     any `mapstructure:"http_listen"`
	TrustedProxies any `mapstructure:"trusted_proxies"`
}

type rawTLS struct {
	CertFile any `mapstructure:"cert_file"`
	KeyFile  any `mapstructure:"key_file"`
	CAFile   any `mapstructure:"ca_file"`
}

type rawDNSSEC struct {
	Enabled      any `mapstructure:"enabled"`
	TrustAnchor  any `mapstructure:"trust_anchor"`
	NTAs         any `mapstructure:"negative_trust_anchors"`
	AnchorState  any `mapstructure:"anchor_state_file"`
	OverrideDate any `mapstructure:"override_date"`
}

type rawTCP struct {
	IdleTimeout       any `mapstructure:"idle_timeout"`
	MaxConns          any `mapstructure:"max_connections"`
	MaxConnsPerClient any `mapstructure:"max_connections_per_client"`
}

type rawUpstream struct {
	AllowPrivate   any `mapstructure:"allow_private"`
	MaxQPS         any `mapstructure:"max_qps_per_server"`
	MaxOutstanding any `mapstructure:"max_outstanding"`
}

// rawLab, rawAdmin, rawCache, rawACL and rawLog are the sections of
// rawConfig.
type rawLab struct {
	Enabled   any `mapstructure:"enabled"`
	Port      any `mapstructure:"port"`
	Loss      any `mapstructure:"loss"`
	AnchorOut any `mapstructure:"anchor_out"`
}

type rawAdmin struct {
	Listen       any `mapstructure:"listen"`
	Token        any `mapstructure:"token"`
	AllowedHosts any `mapstructure:"allowed_hosts"`
}

type rawCache struct {
	Size           any      `mapstructure:"size"`
	Memory         any      `mapstructure:"memory"`
	File           any      `mapstructure:"file"`
	MinTTL         any      `mapstructure:"min_ttl"`
	MaxTTL         any      `mapstructure:"max_ttl"`
	NegativeMaxTTL any      `mapstructure:"negative_max_ttl"`
	Policy         any      `mapstructure:"policy"`
	ServeStale     any      `mapstructure:"serve_stale"`
	StaleMaxAge    any      `mapstructure:"stale_max_age"`
	Prefetch       any      `mapstructure:"prefetch"`
	Redis          rawRedis `mapstructure:"redis"`
}

type rawRedis struct {
	Addr    any `mapstructure:"addr"`
	Seed    any `mapstructure:"seed"`
	Timeout any `mapstructure:"timeout"`
}

type rawACL struct {
	Allow  any `mapstructure:"allow"`
	Deny   any `mapstructure:"deny"`
	Action any `mapstructure:"action"`
}

type rawLog struct {
	Level   any `mapstructure:"level"`
	Format  any `mapstructure:"format"`
	Queries any `mapstructure:"queries"`
}

// builder checks raw values one setting at a time, collecting a
// *FieldError for each problem instead of stopping at the first.
type builder struct {
	// src maps a key to where its value came from; absent for defaults.
	src  map[string]string
	errs []error
}

// build turns the decoded settings into a Config. It returns every problem
// it finds, in table order, then the checks between settings.
func build(raw *rawConfig, src map[string]string) (*Config, []error) {
	b := &builder{src: src}
	// The lab decides which root hints are acceptable, so read it first;
	// its own errors are reported in table order below.
	labEnabled, _ := parseBool(b.value(keyLabEnabled, raw.Lab.Enabled))

	cfg := &Config{}
	cfg.Listen = b.addrPort(keyListen, raw.Listen, wantListen)
	cfg.RootHints = b.rootHints(raw.RootHints, labEnabled)
	upstream, upstreamOK := b.port(keyUpstreamPort, raw.UpstreamPort)
	cfg.UpstreamPort = upstream
	cfg.IPv6 = b.bool(keyIPv6, raw.IPv6)
	cfg.AllowPrivateUpstream = b.bool(keyAllowPrivate, raw.Upstream.AllowPrivate)
	cfg.QNameMinimisation = b.bool(keyQNameMin, raw.QNameMin)
	cfg.ForwardZones = b.zoneServers(keyForwardZones, raw.ForwardZones)
	cfg.StubZones = b.zoneServers(keyStubZones, raw.StubZones)
	cfg.LocalZones = b.folder(keyLocalZones, raw.LocalZones)
	cfg.DNSSEC.Enabled = b.bool(keyDNSSECOn, raw.DNSSEC.Enabled)
	cfg.DNSSEC.TrustAnchor = b.readableFile(keyTrustAnchor, raw.DNSSEC.TrustAnchor, wantAnchorFile)
	if ntas := listOf(b, keyNTAs, raw.DNSSEC.NTAs, wantNTA, parseDomain); len(ntas) > 0 {
		cfg.DNSSEC.NegativeTrustAnchors = ntas
	}
	cfg.DNSSEC.OverrideDate = b.date(keyOverrideDate, raw.DNSSEC.OverrideDate)
	cfg.DNSSEC.AnchorStateFile = b.optionalPath(keyAnchorState, raw.DNSSEC.AnchorState, wantStateFile)
	cfg.Lab.Enabled = b.bool(keyLabEnabled, raw.Lab.Enabled)
	labPort, labPortOK := b.port(keyLabPort, raw.Lab.Port)
	cfg.Lab.Port = labPort
	cfg.Lab.Loss = b.floatIn(keyLabLoss, raw.Lab.Loss, 0.5, "a share from 0 to 0.5, such as 0.05")
	cfg.Lab.AnchorOut = b.str(keyLabAnchorOut, raw.Lab.AnchorOut)
	cfg.Admin.Listen = b.optionalAddrPort(keyAdminListen, raw.Admin.Listen, wantAdminListen)
	cfg.Admin.Token = b.str(keyAdminToken, raw.Admin.Token)
	if hosts := listOf(b, keyAdminHosts, raw.Admin.AllowedHosts, wantHosts, parseHostName); len(hosts) > 0 {
		cfg.Admin.AllowedHosts = hosts
	}
	cfg.Transports = b.transports(raw)
	cfg.Cache.Size = b.cacheSize(raw.Cache.Size)
	cfg.Cache.Memory = b.cacheMemory(raw.Cache.Memory)
	cfg.Cache.File = b.optionalPath(keyCacheFile, raw.Cache.File, wantCacheFile)
	minTTL, minTTLOK := b.ttl(keyCacheMinTTL, raw.Cache.MinTTL, 0, wantDuration)
	cfg.Cache.MinTTL = minTTL
	maxTTL, maxTTLOK := b.ttl(keyCacheMaxTTL, raw.Cache.MaxTTL, time.Second, wantTTL)
	cfg.Cache.MaxTTL = maxTTL
	cfg.Cache.NegativeMaxTTL, _ = b.ttl(keyCacheNegTTL, raw.Cache.NegativeMaxTTL, time.Second, wantTTL)
	cfg.Cache.Policy = b.cachePolicy(raw.Cache.Policy)
	cfg.Cache.ServeStale = b.bool(keyServeStale, raw.Cache.ServeStale)
	cfg.Cache.StaleMaxAge, _ = b.duration(keyStaleMaxAge, raw.Cache.StaleMaxAge, 0, wantDuration)
	cfg.Cache.Prefetch = b.bool(keyPrefetch, raw.Cache.Prefetch)
	cfg.Cache.Redis = b.redis(raw.Cache.Redis)
	cfg.ACL.Allow = b.prefixes(keyACLAllow, raw.ACL.Allow)
	cfg.ACL.Deny = b.prefixes(keyACLDeny, raw.ACL.Deny)
	cfg.ACL.Action = b.action(keyACLAction, raw.ACL.Action)
	cfg.RateLimit = b.rateLimit(raw.RateLimit)
	cfg.Limits.MaxRecursions = b.intIn(keyMaxRecursion, raw.Limits.MaxRecursions, 1, maxMaxRecursions, wantMaxRecursions)
	cfg.Limits.UpstreamQPS = b.floatIn(keyUpstreamQPS, raw.Upstream.MaxQPS, maxUpstreamQPS, wantUpstreamQPS)
	cfg.Limits.UpstreamOutstanding = b.intIn(keyOutstanding, raw.Upstream.MaxOutstanding, 0, maxOutstanding, wantOutstanding)
	cfg.Server.CookieSecret = b.cookieSecret(raw.Server.CookieSecret)
	cfg.TCP.IdleTimeout, _ = b.duration(keyTCPIdle, raw.TCP.IdleTimeout, 100*time.Millisecond, "a duration of at least 100ms, such as 10s")
	cfg.TCP.MaxConns = b.intIn(keyTCPConns, raw.TCP.MaxConns, 0, maxOutstanding, "an integer from 0 to 1000000; 0 means no bound")
	cfg.TCP.MaxConnsPerClient = b.intIn(keyTCPPerClient, raw.TCP.MaxConnsPerClient, 0, maxOutstanding, "an integer from 0 to 1000000; 0 means no bound")
	cfg.Server.Identity = b.identity(raw.Server.Identity)
	cfg.Log.Level = b.logLevel(raw.Log.Level)
	cfg.Log.Format = b.logFormat(raw.Log.Format)
	cfg.Log.Queries = b.bool(keyLogQueries, raw.Log.Queries)

	if cfg.Lab.Enabled && upstreamOK && labPortOK {
		b.applyLab(cfg, raw.UpstreamPort)
	}
	if minTTLOK && maxTTLOK {
		b.checkTTLOrder(cfg.Cache, raw.Cache.MinTTL, raw.Cache.MaxTTL)
	}
	return cfg, b.errs
}

// applyLab points the resolver at the lab: with the lab enabled the
// resolver asks the lab's servers, which serve the lab's roots and all
// listen on lab.port. An upstream_port that the user set to another port is
// an error rather than silently overridden.
func (b *builder) applyLab(cfg *Config, rawUpstream any) {
	if _, explicit := b.src[keyUpstreamPort]; explicit && cfg.UpstreamPort != cfg.Lab.Port {
		b.fail(keyUpstreamPort, rawUpstream, fmt.Sprintf(
			"%d, the value of lab.port, or no upstream_port at all: with lab.enabled the resolver asks the lab's servers on lab.port",
			cfg.Lab.Port))
	}
	cfg.UpstreamPort = cfg.Lab.Port
	cfg.RootHints = RootHints{Kind: HintsLab}
}

// fail records that key's value is not accepted.
func (b *builder) fail(key string, value any, want string) {
	b.errs = append(b.errs, &FieldError{Key: key, Value: text(value), Want: want, Source: b.src[key]})
}

// value returns the raw value, or the key's default when no layer set one
// (viper treats a YAML null as unset too).
func (b *builder) value(key string, raw any) any {
	if raw == nil {
		return settingIndex[key].defaultValue()
	}
	return raw
}

// scalarOf returns key's value as text, recording an error for a list or
// mapping.
func (b *builder) scalarOf(key string, raw any, want string) (string, bool) {
	v := b.value(key, raw)
	s, ok := scalar(v)
	if !ok {
		b.fail(key, v, want)
	}
	return s, ok
}

func (b *builder) addrPort(key string, raw any, want string) netip.AddrPort {
	s, ok := b.scalarOf(key, raw, want)
	if !ok {
		return netip.AddrPort{}
	}
	ap, ok := parseAddrPort(s)
	if !ok {
		b.fail(key, s, want)
	}
	return ap
}

// optionalAddrPort is addrPort where an empty value means "off" and gives
// the zero AddrPort.
func (b *builder) optionalAddrPort(key string, raw any, want string) netip.AddrPort {
	s, ok := b.scalarOf(key, raw, want)
	if !ok || strings.TrimSpace(s) == "" {
		return netip.AddrPort{}
	}
	ap, ok := parseAddrPort(s)
	if !ok {
		b.fail(key, s, want)
	}
	return ap
}

func (b *builder) port(key string, raw any) (uint16, bool) {
	v := b.value(key, raw)
	p, ok := parsePort(v)
	if !ok {
		b.fail(key, v, wantPort)
	}
	return p, ok
}

func (b *builder) bool(key string, raw any) bool {
	v := b.value(key, raw)
	x, ok := parseBool(v)
	if !ok {
		b.fail(key, v, wantBool)
	}
	return x
}

// str reads a string as written, without trimming: it may be a secret.
func (b *builder) str(key string, raw any) string {
	s, _ := b.scalarOf(key, raw, wantString)
	return s
}

// rootHints reads root_hints: the keywords iana and lab, or else a file
// that must be a readable regular file (not a FIFO, whose opening could
// block). With the lab enabled a file is refused, since the resolver then
// starts from the lab's roots.
func (b *builder) rootHints(raw any, labEnabled bool) RootHints {
	s, ok := b.scalarOf(keyRootHints, raw, wantRootHints)
	if !ok {
		return RootHints{}
	}
	switch strings.TrimSpace(s) {
	case "iana":
		return RootHints{Kind: HintsIANA}
	case "lab":
		return RootHints{Kind: HintsLab}
	}
	if labEnabled {
		b.fail(keyRootHints, s, wantLabHints)
		return RootHints{}
	}
	if err := checkReadableFile(s); err != nil {
		b.fail(keyRootHints, s, wantRootHints+" ("+err.Error()+")")
		return RootHints{}
	}
	return RootHints{Kind: HintsFile, Path: s}
}

// checkReadableFile returns why path is not a readable regular file, or
// nil. The reason leaves out the path, which the caller already names.
func checkReadableFile(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return pathCause(err)
	}
	if info.IsDir() {
		return errors.New("is a directory")
	}
	if !info.Mode().IsRegular() {
		return errors.New("is not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return pathCause(err)
	}
	// Nothing was read, so closing cannot lose data.
	_ = f.Close()
	return nil
}

// pathCause strips the operation and path from an *fs.PathError.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseDomain reads one domain name, made fully qualified and lower-case.
func parseDomain(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if _, ok := dns.IsDomainName(s); !ok || s == "" {
		return "", false
	}
	return dns.Fqdn(strings.ToLower(s)), true
}

// transports reads dot.*, doh.*, doq.* and tls.*: each listener is off
// when empty; any of the three TLS ones needs a certificate and its key.
func (b *builder) transports(raw *rawConfig) Transports {
	t := Transports{
		DoT:      b.optionalAddrPort(keyDoTListen, raw.DoT.Listen, wantTLSListen),
		DoH:      b.optionalAddrPort(keyDoHListen, raw.DoH.Listen, wantTLSListen),
		DoHHTTP:  b.optionalAddrPort(keyDoHHTTP, raw.DoH.HTTPListen, wantTLSListen),
		DoQ:      b.optionalAddrPort(keyDoQListen, raw.DoQ.Listen, wantTLSListen),
		CertFile: b.readableFile(keyTLSCert, raw.TLS.CertFile, wantPEM),
		KeyFile:  b.readableFile(keyTLSKey, raw.TLS.KeyFile, wantPEM),
		CAFile:   b.readableFile(keyTLSCA, raw.TLS.CAFile, wantPEM+", or empty for the system's CAs"),
	}
	t.TrustedProxies = b.prefixes(keyDoHProxies, raw.DoH.TrustedProxies)
	if t.NeedTLS() && (b.value(keyTLSCert, raw.TLS.CertFile) == "" || b.value(keyTLSKey, raw.TLS.KeyFile) == "") {
		for _, l := range []struct {
			key  string
			addr netip.AddrPort
			raw  any
		}{{keyDoTListen, t.DoT, raw.DoT.Listen}, {keyDoHListen, t.DoH, raw.DoH.Listen}, {keyDoQListen, t.DoQ, raw.DoQ.Listen}} {
			if l.addr.IsValid() {
				b.fail(l.key, b.value(l.key, l.raw), wantTLSListen+", with tls.cert_file and tls.key_file set (rootwalk cert makes a pair)")
				break
			}
		}
	}
	return t
}

// parseHostName reads a host name as a browser sends it in Host: no
// final dot, lower case.
func parseHostName(s string) (string, bool) {
	d, ok := parseDomain(s)
	if !ok || d == "." {
		return "", false
	}
	return strings.TrimSuffix(d, "."), true
}

// date reads a UTC time written YYYYMMDDhhmmss, or empty for none.
func (b *builder) date(key string, raw any) time.Time {
	s := b.optionalPath(key, raw, wantDate)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse("20060102150405", s)
	if err != nil {
		b.fail(key, s, wantDate)
		return time.Time{}
	}
	return t
}

// readableFile reads a setting naming a file that must be readable now,
// or empty for none.
func (b *builder) readableFile(key string, raw any, want string) string {
	s := b.optionalPath(key, raw, want)
	if s == "" {
		return ""
	}
	if err := checkReadableFile(s); err != nil {
		b.fail(key, s, want+" ("+err.Error()+")")
		return ""
	}
	return s
}

// optionalPath reads a setting naming a file that need not exist yet, or
// empty for none. Spaces around the path are dropped, as for local_zones.
func (b *builder) optionalPath(key string, raw any, want string) string {
	s, _ := b.scalarOf(key, raw, want)
	return strings.TrimSpace(s)
}

// duration reads a Go duration of at least least, such as 30s or 1h30m. The
// second result is false if the value was refused.
func (b *builder) duration(key string, raw any, least time.Duration, want string) (time.Duration, bool) {
	s, ok := b.scalarOf(key, raw, want)
	if !ok {
		return 0, false
	}
	d, ok := parseDuration(s)
	if !ok || d < least {
		b.fail(key, s, want)
		return 0, false
	}
	return d, true
}

// prefixes reads a list of CIDR prefixes, reporting each bad item on its
// own line.
func (b *builder) prefixes(key string, raw any) []netip.Prefix {
	return listOf(b, key, raw, wantPrefix, parsePrefix)
}

// listOf reads a list setting whose items parse reads, failing each item
// it refuses (with the whole value when it is not a list).
func listOf[T any](b *builder, key string, raw any, want string, parse func(string) (T, bool)) []T {
	v := b.value(key, raw)
	items, ok := listItems(v)
	if !ok {
		b.fail(key, v, want)
		return nil
	}
	out := make([]T, 0, len(items))
	for _, item := range items {
		s, ok := scalar(item)
		if !ok {
			b.fail(key, item, want)
			continue
		}
		x, ok := parse(s)
		if !ok {
			b.fail(key, s, want)
			continue
		}
		out = append(out, x)
	}
	return out
}

// logLevels maps the accepted log.level names to slog levels.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

func (b *builder) logLevel(raw any) slog.Level {
	s, ok := b.scalarOf(keyLogLevel, raw, wantLogLevel)
	if !ok {
		return slog.LevelInfo
	}
	level, ok := logLevels[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		b.fail(keyLogLevel, s, wantLogLevel)
	}
	return level
}

func (b *builder) logFormat(raw any) LogFormat {
	s, ok := b.scalarOf(keyLogFormat, raw, wantLogFormat)
	if !ok {
		return LogText
	}
	switch f := LogFormat(strings.ToLower(strings.TrimSpace(s))); f {
	case LogText, LogJSON:
		return f
	}
	b.fail(keyLogFormat, s, wantLogFormat)
	return LogText
}

// zoneServers reads forward_zones or stub_zones: ZONE=ADDR[:PORT][+...]
// entries, each address on port 53 unless it says otherwise.
func (b *builder) zoneServers(key string, raw any) []ZoneServers {
	if zs := listOf(b, key, raw, wantZone, parseZoneServers); len(zs) > 0 {
		return zs
	}
	return nil // no zones, as the default says
}

// parseZoneServers reads one ZONE=ADDR[:PORT][+ADDR[:PORT]...] entry; a
// server written tls://ADDR[:PORT][#NAME] is asked over TLS.
func parseZoneServers(s string) (ZoneServers, bool) {
	zone, addrs, ok := strings.Cut(strings.TrimSpace(s), "=")
	zone = strings.TrimSpace(zone)
	if !ok || zone == "" || addrs == "" {
		return ZoneServers{}, false
	}
	if _, ok := dns.IsDomainName(zone); !ok {
		return ZoneServers{}, false
	}
	z := ZoneServers{Zone: dns.Fqdn(strings.ToLower(zone))}
	for _, a := range strings.Split(addrs, "+") {
		a = strings.TrimSpace(a)
		if rest, ok := strings.CutPrefix(a, "tls://"); ok {
			ap, name, ok := parseTLSServer(rest)
			if !ok {
				return ZoneServers{}, false
			}
			z.Servers = append(z.Servers, ap)
			if z.TLS == nil {
				z.TLS = make(map[netip.AddrPort]string)
			}
			z.TLS[ap] = name
			continue
		}
		if ap, ok := parseAddrPort(a); ok {
			z.Servers = append(z.Servers, ap)
			continue
		}
		ip, err := netip.ParseAddr(strings.Trim(a, "[]"))
		if err != nil {
			return ZoneServers{}, false
		}
		z.Servers = append(z.Servers, netip.AddrPortFrom(ip, 53))
	}
	return z, true
}

// parseTLSServer reads ADDR[:PORT][#NAME] of a tls:// server: the port
// is 853 (RFC 7858) unless given; NAME, when given, is the name its
// certificate must carry.
func parseTLSServer(s string) (netip.AddrPort, string, bool) {
	addr, name, _ := strings.Cut(s, "#")
	if name != "" {
		if _, ok := dns.IsDomainName(name); !ok {
			return netip.AddrPort{}, "", false
		}
		name = strings.TrimSuffix(strings.ToLower(name), ".")
	}
	if ap, ok := parseAddrPort(addr); ok {
		return ap, name, true
	}
	ip, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	if err != nil {
		return netip.AddrPort{}, "", false
	}
	return netip.AddrPortFrom(ip, 853), name, true
}

// folder reads a setting naming a folder that must exist, or empty.
func (b *builder) folder(key string, raw any) string {
	s := strings.TrimSpace(b.str(key, raw))
	if s == "" {
		return ""
	}
	info, err := os.Stat(s)
	switch {
	case err != nil:
		b.fail(key, s, wantFolder+" ("+pathCause(err).Error()+")")
		return ""
	case !info.IsDir():
		b.fail(key, s, wantFolder+" (is not a folder)")
		return ""
	}
	return s
}
