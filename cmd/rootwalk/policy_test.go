package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/resolver"
)

func TestUpstreamPolicy(t *testing.T) {
	hintsFile := filepath.Join(t.TempDir(), "named.root")
	if err := os.WriteFile(hintsFile, []byte(". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.53.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loopback := netip.MustParseAddr("127.0.0.1")
	private := netip.MustParseAddr("10.1.2.3")
	tests := []struct {
		name                  string
		cfg                   config.Config
		loopbackOK, privateOK bool
	}{
		{"iana: public addresses only", config.Config{RootHints: config.RootHints{Kind: config.HintsIANA}}, false, false},
		{"iana with upstream.allow_private", config.Config{RootHints: config.RootHints{Kind: config.HintsIANA}, AllowPrivateUpstream: true}, true, true},
		{"a hints file: loopback too", config.Config{RootHints: config.RootHints{Kind: config.HintsFile, Path: hintsFile}}, true, false},
		{"the lab's hints: loopback only", config.Config{RootHints: config.RootHints{Kind: config.HintsLab}, UpstreamPort: 53}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, p, err := rootHints(&tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			allowed := func(a netip.Addr) bool {
				in := func(ps []netip.Prefix) bool {
					return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
				}
				return (len(p.allow) == 0 || in(p.allow)) && !in(p.deny)
			}
			if allowed(loopback) != tc.loopbackOK || allowed(private) != tc.privateOK {
				t.Errorf("loopback allowed %v, private %v; want %v, %v", allowed(loopback), allowed(private), tc.loopbackOK, tc.privateOK)
			}
		})
	}
	if !slices.Equal(resolver.Loopback, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}) {
		t.Errorf("resolver.Loopback = %v", resolver.Loopback)
	}
}
