package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// rawKeys lists the mapstructure keys of rawConfig, dotted for nested
// structs.
func rawKeys(typ reflect.Type, prefix string) []string {
	var keys []string
	for f := range typ.Fields() {
		key := prefix + f.Tag.Get("mapstructure")
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, rawKeys(f.Type, key+".")...)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

// TestTableMatchesDecoder checks that every setting in the table is decoded
// and every decoded field is in the table, so that a key cannot exist in one
// place and not the other.
func TestTableMatchesDecoder(t *testing.T) {
	got := rawKeys(reflect.TypeFor[rawConfig](), "")
	slices.Sort(got)
	want := fileKeys()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rawConfig keys:\n got  %v\nwant %v (the settings table, less config)", got, want)
	}
}

// TestSpellings checks the three spellings of every setting against
// DESIGN.md's rule, and that no two settings share one.
func TestSpellings(t *testing.T) {
	exceptions := map[string]string{keyLabEnabled: "lab", keyLabAnchorOut: "anchor-out",
		keyNTAs: "negative-trust-anchor", keyOverrideDate: "dnssec-override-date"}
	flags := map[string]string{}
	envs := map[string]string{}
	for i := range settings {
		s := &settings[i]
		t.Run(s.key, func(t *testing.T) {
			wantFlag := strings.NewReplacer(".", "-", "_", "-").Replace(s.key)
			if e, ok := exceptions[s.key]; ok {
				wantFlag = e
			}
			if got := s.flagName(); got != wantFlag {
				t.Errorf("flag: got %q, want %q", got, wantFlag)
			}
			wantEnv := "ROOTWALK_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
			if got := s.envName(); got != wantEnv {
				t.Errorf("env: got %q, want %q", got, wantEnv)
			}
			for _, name := range s.flagNames() {
				if other, dup := flags[name]; dup {
					t.Errorf("flag --%s is used by %s and %s", name, other, s.key)
				}
				flags[name] = s.key
			}
			if other, dup := envs[s.envName()]; dup {
				t.Errorf("variable %s is used by %s and %s", s.envName(), other, s.key)
			}
			envs[s.envName()] = s.key
		})
	}
}

func TestRegisterFlags(t *testing.T) {
	fs := pflag.NewFlagSet("rootwalk", pflag.ContinueOnError)
	RegisterFlags(fs)
	tests := []struct {
		flag        string
		wantDefault string
		wantType    string
		wantInUsage string
	}{
		{flag: "config", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_CONFIG"},
		{flag: "listen", wantDefault: "127.0.0.1:53", wantType: "string", wantInUsage: "ROOTWALK_LISTEN"},
		{flag: "root-hints", wantDefault: "iana", wantType: "string", wantInUsage: "ROOTWALK_ROOT_HINTS"},
		{flag: "upstream-port", wantDefault: "53", wantType: "int", wantInUsage: "ROOTWALK_UPSTREAM_PORT"},
		{flag: "ipv6", wantDefault: "true", wantType: "bool", wantInUsage: "ROOTWALK_IPV6"},
		{flag: "upstream-allow-private", wantDefault: "false", wantType: "bool", wantInUsage: "ROOTWALK_UPSTREAM_ALLOW_PRIVATE"},
		{flag: "qname-minimisation", wantDefault: "true", wantType: "bool", wantInUsage: "ROOTWALK_QNAME_MINIMISATION"},
		{flag: "forward-zones", wantDefault: "[]", wantType: "stringSlice", wantInUsage: "ROOTWALK_FORWARD_ZONES"},
		{flag: "stub-zones", wantDefault: "[]", wantType: "stringSlice", wantInUsage: "ROOTWALK_STUB_ZONES"},
		{flag: "local-zones", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_LOCAL_ZONES"},
		{flag: "dnssec-enabled", wantDefault: "true", wantType: "bool", wantInUsage: "ROOTWALK_DNSSEC_ENABLED"},
		{flag: "dnssec-trust-anchor", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_DNSSEC_TRUST_ANCHOR"},
		{flag: "trust-anchor", wantDefault: "", wantType: "string", wantInUsage: "alias of --dnssec-trust-anchor"},
		{flag: "dnssec-anchor-state-file", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_DNSSEC_ANCHOR_STATE_FILE"},
		{flag: "negative-trust-anchor", wantDefault: "[]", wantType: "stringSlice", wantInUsage: "ROOTWALK_DNSSEC_NEGATIVE_TRUST_ANCHORS"},
		{flag: "dnssec-override-date", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_DNSSEC_OVERRIDE_DATE"},
		{flag: "lab", wantDefault: "false", wantType: "bool", wantInUsage: "ROOTWALK_LAB_ENABLED"},
		{flag: "lab-port", wantDefault: "10053", wantType: "int", wantInUsage: "ROOTWALK_LAB_PORT"},
		{flag: "lab-loss", wantDefault: "0", wantType: "float64", wantInUsage: "ROOTWALK_LAB_LOSS"},
		{flag: "anchor-out", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_LAB_ANCHOR_OUT"},
		{flag: "admin-listen", wantDefault: "127.0.0.1:9153", wantType: "string", wantInUsage: "ROOTWALK_ADMIN_LISTEN"},
		{flag: "admin", wantDefault: "127.0.0.1:9153", wantType: "string", wantInUsage: "alias of --admin-listen"},
		{flag: "admin-token", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_ADMIN_TOKEN"},
		{flag: "dot-listen", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_DOT_LISTEN"},
		{flag: "doh-listen", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_DOH_LISTEN"},
		{flag: "doh-http-listen", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_DOH_HTTP_LISTEN"},
		{flag: "doh-trusted-proxies", wantDefault: "[]", wantType: "stringSlice", wantInUsage: "ROOTWALK_DOH_TRUSTED_PROXIES"},
		{flag: "doq-listen", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_DOQ_LISTEN"},
		{flag: "tls-cert-file", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_TLS_CERT_FILE"},
		{flag: "tls-key-file", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_TLS_KEY_FILE"},
		{flag: "tls-ca-file", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_TLS_CA_FILE"},
		{flag: "admin-allowed-hosts", wantDefault: "[]", wantType: "stringSlice", wantInUsage: "ROOTWALK_ADMIN_ALLOWED_HOSTS"},
		{flag: "cache-size", wantDefault: "100000", wantType: "int", wantInUsage: "ROOTWALK_CACHE_SIZE"},
		{flag: "cache-memory", wantDefault: "128MiB", wantType: "string", wantInUsage: "ROOTWALK_CACHE_MEMORY"},
		{flag: "cache-file", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_CACHE_FILE"},
		{flag: "cache-min-ttl", wantDefault: "0s", wantType: "string", wantInUsage: "ROOTWALK_CACHE_MIN_TTL"},
		{flag: "cache-max-ttl", wantDefault: "24h", wantType: "string", wantInUsage: "ROOTWALK_CACHE_MAX_TTL"},
		{flag: "cache-negative-max-ttl", wantDefault: "1h", wantType: "string", wantInUsage: "ROOTWALK_CACHE_NEGATIVE_MAX_TTL"},
		{flag: "cache-policy", wantDefault: "lru", wantType: "string", wantInUsage: "ROOTWALK_CACHE_POLICY"},
		{flag: "cache-serve-stale", wantDefault: "true", wantType: "bool", wantInUsage: "ROOTWALK_CACHE_SERVE_STALE"},
		{flag: "cache-stale-max-age", wantDefault: "24h", wantType: "string", wantInUsage: "ROOTWALK_CACHE_STALE_MAX_AGE"},
		{flag: "cache-prefetch", wantDefault: "true", wantType: "bool", wantInUsage: "ROOTWALK_CACHE_PREFETCH"},
		{flag: "acl-allow", wantDefault: "[127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,169.254.0.0/16,fe80::/10]", wantType: "stringSlice", wantInUsage: "ROOTWALK_ACL_ALLOW"},
		{flag: "acl-deny", wantDefault: "[]", wantType: "stringSlice", wantInUsage: "ROOTWALK_ACL_DENY"},
		{flag: "acl-action", wantDefault: "refuse", wantType: "string", wantInUsage: "ROOTWALK_ACL_ACTION"},
		{flag: "ratelimit-qps", wantDefault: "0", wantType: "float64", wantInUsage: "ROOTWALK_RATELIMIT_QPS"},
		{flag: "ratelimit-burst", wantDefault: "0", wantType: "int", wantInUsage: "ROOTWALK_RATELIMIT_BURST"},
		{flag: "ratelimit-action", wantDefault: "refuse", wantType: "string", wantInUsage: "ROOTWALK_RATELIMIT_ACTION"},
		{flag: "limits-max-recursions", wantDefault: "2000", wantType: "int", wantInUsage: "ROOTWALK_LIMITS_MAX_RECURSIONS"},
		{flag: "server-identity", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_SERVER_IDENTITY"},
		{flag: "tcp-idle-timeout", wantDefault: "10s", wantType: "string", wantInUsage: "ROOTWALK_TCP_IDLE_TIMEOUT"},
		{flag: "tcp-max-connections", wantDefault: "1000", wantType: "int", wantInUsage: "ROOTWALK_TCP_MAX_CONNECTIONS"},
		{flag: "tcp-max-connections-per-client", wantDefault: "100", wantType: "int", wantInUsage: "ROOTWALK_TCP_MAX_CONNECTIONS_PER_CLIENT"},
		{flag: "server-cookie-secret", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_SERVER_COOKIE_SECRET"},
		{flag: "upstream-max-qps-per-server", wantDefault: "10000", wantType: "float64", wantInUsage: "ROOTWALK_UPSTREAM_MAX_QPS_PER_SERVER"},
		{flag: "upstream-max-outstanding", wantDefault: "4096", wantType: "int", wantInUsage: "ROOTWALK_UPSTREAM_MAX_OUTSTANDING"},
		{flag: "cache-redis-addr", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_CACHE_REDIS_ADDR"},
		{flag: "cache-redis-seed", wantDefault: "", wantType: "string", wantInUsage: "ROOTWALK_CACHE_REDIS_SEED"},
		{flag: "cache-redis-timeout", wantDefault: "50ms", wantType: "string", wantInUsage: "ROOTWALK_CACHE_REDIS_TIMEOUT"},
		{flag: "log-level", wantDefault: "info", wantType: "string", wantInUsage: "ROOTWALK_LOG_LEVEL"},
		{flag: "log-format", wantDefault: "text", wantType: "string", wantInUsage: "ROOTWALK_LOG_FORMAT"},
		{flag: "log-queries", wantDefault: "false", wantType: "bool", wantInUsage: "ROOTWALK_LOG_QUERIES"},
	}
	var n int
	fs.VisitAll(func(*pflag.Flag) { n++ })
	if n != len(tests) {
		t.Errorf("got %d flags, want %d", n, len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.flag, func(t *testing.T) {
			f := fs.Lookup(tc.flag)
			if f == nil {
				t.Fatalf("flag --%s not registered", tc.flag)
			}
			if f.DefValue != tc.wantDefault || f.Value.Type() != tc.wantType {
				t.Errorf("got default %q type %s, want %q type %s", f.DefValue, f.Value.Type(), tc.wantDefault, tc.wantType)
			}
			if !strings.Contains(f.Usage, tc.wantInUsage) {
				t.Errorf("got usage %q, want it to mention %q", f.Usage, tc.wantInUsage)
			}
		})
	}
}

// TestHelpNamesArguments checks that --help shows a meaningful name for
// each flag's argument.
func TestHelpNamesArguments(t *testing.T) {
	fs := pflag.NewFlagSet("rootwalk", pflag.ContinueOnError)
	RegisterFlags(fs)
	help := fs.FlagUsages()
	for _, want := range []string{
		"--config FILE", "--listen ADDR:PORT", "--root-hints FILE", "--upstream-port N",
		"--admin-listen ADDR:PORT", "--admin-token T", "--cache-size N", "--cache-memory SIZE",
		"--acl-allow CIDR", "--log-level LEVEL", "--log-format FORMAT", "--admin ADDR:PORT",
		"--lab", "start the embedded lab",
		"--cache-file FILE", "--cache-min-ttl DURATION", "--cache-max-ttl DURATION",
		"--cache-negative-max-ttl DURATION", "--cache-policy POLICY", "--cache-stale-max-age DURATION",
		"--cache-serve-stale[=true|false]", "--cache-prefetch[=true|false]",
		"--acl-action ACTION", "--ratelimit-action ACTION", "--ratelimit-qps QPS", "--ratelimit-burst N", "--limits-max-recursions N", "--server-identity NAME",
	} {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(help, want) {
				t.Errorf("help does not contain %q:\n%s", want, help)
			}
		})
	}
}

// TestDefaultsNotShared checks that changing a list flag does not change
// the table's default, which later Loads rely on.
func TestDefaultsNotShared(t *testing.T) {
	before := slices.Clone(settingIndex[keyACLAllow].def.([]string))
	for range 2 {
		cfg := mustLoad(t, load{args: []string{"--acl-allow", "192.0.2.1", "--acl-allow", "192.0.2.2"}})
		if got, want := len(cfg.ACL.Allow), 2; got != want {
			t.Errorf("got %d allow prefixes, want %d", got, want)
		}
	}
	if got := settingIndex[keyACLAllow].def.([]string); !slices.Equal(got, before) {
		t.Errorf("default changed: got %v, want %v", got, before)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"cache.size", "cache.memory", "listen"}
	all := "one of cache.size, cache.memory, listen"
	tests := []struct {
		name string
		want string
	}{
		{name: "cache.siz", want: "cache.size"},
		{name: "CACHE.SIZE", want: "cache.size"},
		{name: "cache.memroy", want: "cache.memory"},
		{name: "lisen", want: "listen"},
		{name: "ab", want: all},
		{name: "x", want: all},
		{name: "", want: all},
		{name: "colour", want: all},
		{name: strings.Repeat("a", maxSuggestLen+1), want: all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := suggest(tc.name, known); got != tc.want {
				t.Errorf("suggest(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

func TestEnvironFirstWins(t *testing.T) {
	cfg := mustLoad(t, load{env: []string{"ROOTWALK_CACHE_SIZE=5", "ROOTWALK_CACHE_SIZE=6"}})
	if got, want := cfg.Cache.Size, 5; got != want {
		t.Errorf("got cache.size %d, want %d (the first, as os.Getenv)", got, want)
	}
}

func TestRegisterSomeFlags(t *testing.T) {
	fs := pflag.NewFlagSet("lab", pflag.ContinueOnError)
	RegisterFlags(fs, "lab.port", "log.level")
	for _, name := range []string{"lab-port", "log-level", "config"} {
		if fs.Lookup(name) == nil {
			t.Errorf("--%s not registered", name)
		}
	}
	if fs.Lookup("listen") != nil {
		t.Error("--listen registered though not asked for")
	}
	if err := fs.Parse([]string{"--lab-port", "53"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(fs, []string{"ROOTWALK_LISTEN=127.0.0.1:5300"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lab.Port != 53 || cfg.Listen.String() != "127.0.0.1:5300" {
		t.Errorf("lab.port %d, listen %v: want the flag and the environment both honoured", cfg.Lab.Port, cfg.Listen)
	}
	defer func() {
		if recover() == nil {
			t.Error("RegisterFlags accepted a key that is no setting")
		}
	}()
	RegisterFlags(pflag.NewFlagSet("x", pflag.ContinueOnError), "no.such.key")
}

func TestLogQueries(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs)
	cfg, err := Load(fs, []string{"ROOTWALK_LOG_QUERIES=true"})
	if err != nil || !cfg.Log.Queries {
		t.Fatalf("from the environment: %v, %v", cfg, err)
	}
	if err := fs.Parse([]string{"--log-queries=false"}); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load(fs, []string{"ROOTWALK_LOG_QUERIES=true"})
	if err != nil || cfg.Log.Queries {
		t.Fatalf("the flag did not win over the environment: %v, %v", cfg, err)
	}
	if _, err := Load(nil, []string{"ROOTWALK_LOG_QUERIES=sometimes"}); err == nil || !strings.Contains(err.Error(), "log.queries") {
		t.Errorf("bad value: %v", err)
	}
}

func TestZoneSettings(t *testing.T) {
	dir := t.TempDir()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--forward-zones", "Corp.Example=10.0.0.53+[fd00::53]:5353", "--stub-zones", "lab.internal=127.0.0.1:5300", "--local-zones", dir}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(fs, []string{"ROOTWALK_STUB_ZONES=a.example=127.0.0.2,b.example=127.0.0.3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ForwardZones) != 1 || cfg.ForwardZones[0].Zone != "corp.example." ||
		fmt.Sprint(cfg.ForwardZones[0].Servers) != "[10.0.0.53:53 [fd00::53]:5353]" {
		t.Errorf("forward zones %+v", cfg.ForwardZones)
	}
	if len(cfg.StubZones) != 1 || cfg.StubZones[0].Servers[0].String() != "127.0.0.1:5300" {
		t.Errorf("stub zones %+v (the flag wins over the environment)", cfg.StubZones)
	}
	if cfg.LocalZones != dir {
		t.Errorf("local zones %q", cfg.LocalZones)
	}
	if cfg, err := Load(nil, []string{"ROOTWALK_STUB_ZONES=a.example=127.0.0.2,b.example=127.0.0.3:5353"}); err != nil || len(cfg.StubZones) != 2 {
		t.Errorf("two stub zones from the environment: %+v, %v", cfg, err)
	}
	for _, bad := range []string{"ROOTWALK_FORWARD_ZONES=corp.example", "ROOTWALK_FORWARD_ZONES=corp.example=", "ROOTWALK_FORWARD_ZONES=corp.example=nowhere",
		"ROOTWALK_FORWARD_ZONES==10.0.0.1", "ROOTWALK_LOCAL_ZONES=/no/such/folder"} {
		if _, err := Load(nil, []string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
