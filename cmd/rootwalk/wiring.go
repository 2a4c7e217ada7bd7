package main

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/zones"
)

// resolverOptions turns the configuration into the resolver's options,
// for serve and trace alike: root hints and the address policy that goes
// with them, local, forward and stub zones, and the upstream port (the
// lab's, when one runs in this process).
func resolverOptions(cfg *config.Config, lab *zones.Lab, c *cache.Cache, log *slog.Logger) (resolver.Options, error) {
	hints, policy, err := rootHints(cfg, lab)
	if err != nil {
		return resolver.Options{}, err
	}
	local, err := localZones(cfg, lab)
	if err != nil {
		return resolver.Options{}, err
	}
	port := cfg.UpstreamPort
	if lab != nil {
		port = uint16(lab.Port())
	}
	anchors, err := trustAnchors(cfg, lab)
	if err != nil {
		return resolver.Options{}, err
	}
	if len(anchors) == 0 && cfg.DNSSEC.Enabled {
		log.Info("DNSSEC validation off: no trust anchor for these root hints (dnssec.trust_anchor)")
	}
	roots, err := tlsRoots(cfg.Transports.CAFile)
	if err != nil {
		return resolver.Options{}, err
	}
	return resolver.Options{
		TLSRoots:             roots,
		TrustAnchors:         anchors,
		NegativeTrustAnchors: cfg.DNSSEC.NegativeTrustAnchors,
		AnchorStateFile:      anchorStateFile(cfg, lab, anchors),
		ValidationTime:       cfg.DNSSEC.OverrideDate,
		Local:                local,
		Forward:              zoneServers(cfg.ForwardZones),
		Stub:                 zoneServers(cfg.StubZones),
		Hints:                hints,
		UpstreamPort:         port,
		IPv6:                 cfg.IPv6,
		QNameMinimisation:    cfg.QNameMinimisation,
		AllowUpstream:        policy.allow,
		DenyUpstream:         policy.deny,
		Cache:                c,
		MaxServerQPS:         noLimitIfZero(cfg.Limits.UpstreamQPS),
		MaxOutstanding:       noLimitIfZero(cfg.Limits.UpstreamOutstanding),
		Prefetch:             cfg.Cache.Prefetch,
		ServeStale:           cfg.Cache.ServeStale,
		Logger:               log.With("component", "resolver"),
	}, nil
}

// trustAnchors returns the DNSSEC trust anchors to validate from, none
// when dnssec.enabled is false: dnssec.trust_anchor's file if set; else
// the keys of the lab running in this process; else IANA's root keys with
// IANA's hints. A lab elsewhere (root_hints lab) or a hints file has keys
// this process cannot know: only dnssec.trust_anchor turns validation on
// for them (rootwalk lab --anchor-out writes the lab's).
func trustAnchors(cfg *config.Config, lab *zones.Lab) ([]dns.RR, error) {
	switch {
	case !cfg.DNSSEC.Enabled:
		return nil, nil
	case cfg.DNSSEC.TrustAnchor != "":
		f, err := os.Open(cfg.DNSSEC.TrustAnchor)
		if err != nil {
			return nil, usageError{fmt.Errorf("dnssec.trust_anchor: %w", err)}
		}
		defer func() { _ = f.Close() }() // read-only
		rrs, err := resolver.ParseTrustAnchors(f, cfg.DNSSEC.TrustAnchor)
		if err != nil {
			return nil, usageError{fmt.Errorf("dnssec.trust_anchor: %w", err)}
		}
		return rrs, nil
	case lab != nil:
		text, err := zones.LabAnchor()
		if err != nil {
			return nil, err
		}
		return resolver.ParseTrustAnchors(strings.NewReader(text), "lab")
	case cfg.RootHints.Kind == config.HintsIANA:
		return resolver.IANATrustAnchors(), nil
	}
	return nil, nil
}

// anchorStateFile is dnssec.anchor_state_file when the anchors are the
// root's and can be tracked: not the lab's, which are new each run, so a
// state file would hold the keys of a lab long gone.
func anchorStateFile(cfg *config.Config, lab *zones.Lab, anchors []dns.RR) string {
	if len(anchors) == 0 || (lab != nil && cfg.DNSSEC.TrustAnchor == "") {
		return ""
	}
	for _, rr := range anchors {
		if rr.Header().Name == "." {
			return cfg.DNSSEC.AnchorStateFile
		}
	}
	return ""
}

// noLimitIfZero maps a configured limit, where 0 means none, to the
// resolver's and the listener's, where 0 means the default and a negative
// value none.
func noLimitIfZero[T int | float64](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// cacheOptions turns the cache.* settings into the cache's options.
func cacheOptions(cfg *config.Config) cache.Options {
	entries, bytes := replayBounds(cfg)
	opts := cache.Options{
		MaxEntries:     cfg.Cache.Size - max(entries, 0),
		MaxBytes:       cfg.Cache.Memory - bytes,
		MinTTL:         cfg.Cache.MinTTL,
		MaxTTL:         cfg.Cache.MaxTTL,
		NegativeMaxTTL: cfg.Cache.NegativeMaxTTL,
		Policy:         cache.Policy(cfg.Cache.Policy),
	}
	if cfg.Cache.ServeStale {
		opts.StaleMaxAge = cfg.Cache.StaleMaxAge
	}
	return opts
}

// replayShare is the share of cache.size and cache.memory given to the
// replies the listener keeps for its fast path, which are a cache too:
// the answer cache gets the rest, so the two stay within the bounds set.
const replayShare = 8

// replayBounds returns the entries and bytes of the replies kept for the
// fast path (server.HandlerOptions.ReplayEntries and ReplayBytes): an
// eighth of the cache's bounds, or no fast path (-1) when that is not
// one entry.
func replayBounds(cfg *config.Config) (entries int, bytes int64) {
	entries, bytes = cfg.Cache.Size/replayShare, cfg.Cache.Memory/replayShare
	if entries == 0 || bytes == 0 {
		return -1, 0
	}
	return entries, bytes
}

// upstreamPolicy is where the resolver may send queries.
type upstreamPolicy struct{ allow, deny []netip.Prefix }

// rootHints returns the hints root_hints asks for and where the resolver
// may then send queries: with a lab, loopback only (a lab's glue must never
// lead elsewhere); with IANA's roots, public addresses only; with a hints
// file, public addresses and loopback (a lab elsewhere on the machine).
// upstream.allow_private lifts the last two restrictions.
func rootHints(cfg *config.Config, lab *zones.Lab) (resolver.Hints, upstreamPolicy, error) {
	nonPublic := resolver.NonPublic
	if cfg.AllowPrivateUpstream {
		nonPublic = nil
	}
	switch {
	case lab != nil:
		h, err := resolver.ParseHints(strings.NewReader(lab.Hints()), "lab")
		return h, upstreamPolicy{allow: resolver.Loopback}, err
	case cfg.RootHints.Kind == config.HintsLab:
		text, err := zones.LabHints(int(cfg.UpstreamPort))
		if err != nil {
			return nil, upstreamPolicy{}, err
		}
		h, err := resolver.ParseHints(strings.NewReader(text), "lab")
		return h, upstreamPolicy{allow: resolver.Loopback}, err
	case cfg.RootHints.Kind == config.HintsFile:
		f, err := os.Open(cfg.RootHints.Path)
		if err != nil {
			return nil, upstreamPolicy{}, usageError{fmt.Errorf("root_hints: %w", err)}
		}
		h, err := resolver.ParseHints(f, cfg.RootHints.Path)
		_ = f.Close() // read-only; everything needed was read
		if err != nil {
			return nil, upstreamPolicy{}, usageError{fmt.Errorf("root_hints: %q is not a usable named.root file: %w", cfg.RootHints.Path, err)}
		}
		var deny []netip.Prefix
		for _, p := range nonPublic {
			if !slices.Contains(resolver.Loopback, p) {
				deny = append(deny, p)
			}
		}
		return h, upstreamPolicy{deny: deny}, nil
	default:
		h, err := resolver.IANAHints()
		return h, upstreamPolicy{deny: nonPublic}, err
	}
}

// localZones loads the zones answered locally: the operator's folder
// (local_zones), then the special-use zones, which a zone of the folder
// with the same name replaces. With a root other than IANA's (a lab),
// 127.in-addr.arpa is not answered locally: the lab serves a zone in it.
func localZones(cfg *config.Config, lab *zones.Lab) (*zones.Local, error) {
	var own []*zones.Zone
	if cfg.LocalZones != "" {
		var err error
		if own, err = zones.LoadDir(cfg.LocalZones); err != nil {
			return nil, usageError{fmt.Errorf("local_zones: %w", err)}
		}
	}
	builtin, err := zones.Builtin(zones.BuiltinOptions{KeepLoopbackReverse: lab != nil || cfg.RootHints.Kind != config.HintsIANA})
	if err != nil {
		return nil, err
	}
	return zones.NewLocal(own, builtin), nil
}

// tlsRoots reads tls.ca_file, the CAs that servers asked over TLS are
// verified against; nil (the system's) when it is empty.
func tlsRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, usageError{fmt.Errorf("tls.ca_file: %w", err)}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageError{fmt.Errorf("tls.ca_file: %s holds no PEM certificate", file)}
	}
	return pool, nil
}

// zoneServers copies forward or stub zones into the resolver's form.
func zoneServers(zs []config.ZoneServers) []resolver.ZoneServers {
	out := make([]resolver.ZoneServers, len(zs))
	for i, z := range zs {
		out[i] = resolver.ZoneServers{Zone: z.Zone, Servers: z.Servers, TLS: z.TLS}
	}
	return out
}
