package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary bytes to Load as the config file: Load must
// never panic, and must return either a valid Config or an error with one
// non-empty line per problem. Seeds are in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	// Each fuzzing worker is its own process and calls the function below
	// one input at a time, so one file per process can be rewritten.
	path := filepath.Join(f.TempDir(), "rootwalk.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		cfg, err := Load(parsedFlags(t, "--config", path), nil)
		if err != nil {
			checkErrorLines(t, err)
			if cfg != nil {
				t.Errorf("got a Config along with the error %v", err)
			}
			return
		}
		checkConfig(t, cfg)
	})
}

// checkErrorLines checks that err has one non-empty line per problem.
func checkErrorLines(t *testing.T, err error) {
	t.Helper()
	lines := errLines(err)
	if n := len(joined(err)); len(lines) != n {
		t.Errorf("got %d lines for %d problems:\n%v", len(lines), n, err)
	}
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			t.Errorf("line %d of the error is empty:\n%v", i+1, err)
		}
	}
}

// checkCache checks the invariants that Load promises of the cache.*
// settings beyond the two bounds.
func checkCache(t *testing.T, c Cache) {
	t.Helper()
	if c.MinTTL < 0 || c.MinTTL > c.MaxTTL || c.MaxTTL < time.Second || c.NegativeMaxTTL < time.Second {
		t.Errorf("TTL clamps out of range: min_ttl %v, max_ttl %v, negative_max_ttl %v", c.MinTTL, c.MaxTTL, c.NegativeMaxTTL)
	}
	for _, d := range []time.Duration{c.MinTTL, c.MaxTTL, c.NegativeMaxTTL} {
		if d%time.Second != 0 {
			t.Errorf("TTL clamp %v is not whole seconds", d)
		}
	}
	if c.StaleMaxAge < 0 {
		t.Errorf("negative stale_max_age %v", c.StaleMaxAge)
	}
	if c.Policy != CacheLRU && c.Policy != Cache2Q {
		t.Errorf("cache policy %q", c.Policy)
	}
	if c.File != strings.TrimSpace(c.File) {
		t.Errorf("cache file %q has spaces around it", c.File)
	}
}

// checkPolicy checks the invariants that Load promises of the ACL action,
// the rate limit, the recursion limit and the identity.
func checkPolicy(t *testing.T, cfg *Config) {
	t.Helper()
	for _, a := range []Action{cfg.ACL.Action, cfg.RateLimit.Action} {
		if a != ActionRefuse && a != ActionDrop {
			t.Errorf("action %q", a)
		}
	}
	r := cfg.RateLimit
	if r.QPS < 0 || r.QPS > maxQPS || r.Burst < 0 || (r.Enabled() && r.Burst < 1) {
		t.Errorf("rate limit out of range: %+v", r)
	}
	if cfg.Limits.MaxRecursions < 1 || cfg.Limits.MaxRecursions > maxMaxRecursions {
		t.Errorf("limits.max_recursions %d", cfg.Limits.MaxRecursions)
	}
	if len(cfg.Server.Identity) > maxIdentity {
		t.Errorf("server.identity of %d bytes", len(cfg.Server.Identity))
	}
}

// checkConfig checks the invariants that Load promises of a Config.
func checkConfig(t *testing.T, cfg *Config) {
	t.Helper()
	if !cfg.Listen.IsValid() || cfg.Listen.Port() == 0 {
		t.Errorf("invalid listen %v", cfg.Listen)
	}
	if cfg.Admin.Listen.IsValid() && cfg.Admin.Listen.Port() == 0 {
		t.Errorf("admin.listen %v has port 0", cfg.Admin.Listen)
	}
	if cfg.UpstreamPort == 0 || cfg.Lab.Port == 0 {
		t.Errorf("zero port: upstream_port %d, lab.port %d", cfg.UpstreamPort, cfg.Lab.Port)
	}
	if cfg.Lab.Enabled && (cfg.UpstreamPort != cfg.Lab.Port || cfg.RootHints != (RootHints{Kind: HintsLab})) {
		t.Errorf("lab enabled but upstream_port %d, lab.port %d, hints %+v", cfg.UpstreamPort, cfg.Lab.Port, cfg.RootHints)
	}
	if (cfg.RootHints.Kind == HintsFile) != (cfg.RootHints.Path != "") {
		t.Errorf("root hints %+v: a path goes with a file and only with one", cfg.RootHints)
	}
	if cfg.Cache.Size < 1 || cfg.Cache.Memory < minCacheMemory {
		t.Errorf("cache bounds too small: size %d, memory %d", cfg.Cache.Size, cfg.Cache.Memory)
	}
	checkCache(t, cfg.Cache)
	for _, p := range append(cfg.ACL.Allow, cfg.ACL.Deny...) {
		if !p.IsValid() || p != p.Masked() {
			t.Errorf("ACL prefix %v is invalid or not masked", p)
		}
	}
	checkPolicy(t, cfg)
	if _, ok := logLevels[strings.ToLower(cfg.Log.Level.String())]; !ok {
		t.Errorf("log level %v is not one of the four", cfg.Log.Level)
	}
	if cfg.Log.Format != LogText && cfg.Log.Format != LogJSON {
		t.Errorf("log format %q", cfg.Log.Format)
	}
}
