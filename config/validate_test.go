package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBadValues checks one bad value per case: Load fails with one line,
// a *FieldError naming the key, the value and the source.
func TestBadValues(t *testing.T) {
	checkBadValues(t, []badValue{
		{name: "listen not an address", args: []string{"--listen", "abc"}, wantKey: keyListen, wantValue: "abc", wantIn: "IP:PORT"},
		{name: "listen without port", args: []string{"--listen", "127.0.0.1"}, wantKey: keyListen, wantValue: "127.0.0.1", wantIn: "IP:PORT"},
		{name: "listen port 0", args: []string{"--listen", "127.0.0.1:0"}, wantKey: keyListen, wantValue: "127.0.0.1:0", wantIn: "IP:PORT"},
		{name: "listen port too big", args: []string{"--listen", "127.0.0.1:65536"}, wantKey: keyListen, wantValue: "127.0.0.1:65536", wantIn: "IP:PORT"},
		{name: "listen host name", args: []string{"--listen", "localhost:53"}, wantKey: keyListen, wantValue: "localhost:53", wantIn: "IP:PORT"},
		{name: "listen IPv6 without brackets", args: []string{"--listen", "::1:53"}, wantKey: keyListen, wantValue: "::1:53", wantIn: "IP:PORT"},
		{name: "admin.listen not an address", env: []string{"ROOTWALK_ADMIN_LISTEN=nope"}, wantKey: keyAdminListen, wantValue: "nope", wantIn: "empty to disable"},
		{name: "admin.listen via alias", args: []string{"--admin", "9153"}, wantKey: keyAdminListen, wantValue: "9153", wantIn: "IP:PORT"},
		{name: "upstream_port zero", args: []string{"--upstream-port", "0"}, wantKey: keyUpstreamPort, wantValue: "0", wantIn: "1 to 65535"},
		{name: "upstream_port too big", env: []string{"ROOTWALK_UPSTREAM_PORT=65536"}, wantKey: keyUpstreamPort, wantValue: "65536", wantIn: "1 to 65535"},
		{name: "upstream_port not a number", env: []string{"ROOTWALK_UPSTREAM_PORT=dns"}, wantKey: keyUpstreamPort, wantValue: "dns", wantIn: "1 to 65535"},
		{name: "lab.port negative", args: []string{"--lab-port", "-1"}, wantKey: keyLabPort, wantValue: "-1", wantIn: "1 to 65535"},
		{name: "ipv6 not a bool", env: []string{"ROOTWALK_IPV6=maybe"}, wantKey: keyIPv6, wantValue: "maybe", wantIn: "true or false"},
		{name: "lab.enabled not a bool", env: []string{"ROOTWALK_LAB_ENABLED=lab"}, wantKey: keyLabEnabled, wantValue: "lab", wantIn: "true or false"},
		{name: "cache.size negative", args: []string{"--cache-size", "-5"}, wantKey: keyCacheSize, wantValue: "-5", wantIn: "at least 1"},
		{name: "cache.size zero", args: []string{"--cache-size", "0"}, wantKey: keyCacheSize, wantValue: "0", wantIn: "at least 1"},
		{name: "cache.size not a number", env: []string{"ROOTWALK_CACHE_SIZE=lots"}, wantKey: keyCacheSize, wantValue: "lots", wantIn: "at least 1"},
		{name: "cache.size fraction", env: []string{"ROOTWALK_CACHE_SIZE=1.5"}, wantKey: keyCacheSize, wantValue: "1.5", wantIn: "at least 1"},
		{name: "cache.memory unknown unit", args: []string{"--cache-memory", "12 parsecs"}, wantKey: keyCacheMemory, wantValue: "12 parsecs", wantIn: "KiB, MiB, GiB"},
		{name: "cache.memory negative", args: []string{"--cache-memory", "-5MiB"}, wantKey: keyCacheMemory, wantValue: "-5MiB", wantIn: "at least 1MiB"},
		{name: "cache.memory below 1MiB", args: []string{"--cache-memory", "10"}, wantKey: keyCacheMemory, wantValue: "10", wantIn: "at least 1MiB"},
		{name: "cache.memory just below 1MiB", args: []string{"--cache-memory", "1048575"}, wantKey: keyCacheMemory, wantValue: "1048575", wantIn: "at least 1MiB"},
		{name: "cache.memory empty", env: []string{"ROOTWALK_CACHE_MEMORY="}, wantKey: keyCacheMemory, wantValue: "", wantIn: "at least 1MiB"},
		{name: "cache.memory decimal comma", args: []string{"--cache-memory", "1,5GiB"}, wantKey: keyCacheMemory, wantValue: "1,5GiB", wantIn: "at least 1MiB"},
		{name: "cache.memory bare M is ambiguous", args: []string{"--cache-memory", "128M"}, wantKey: keyCacheMemory, wantValue: "128M", wantIn: "MiB"},
		{name: "cache.memory TiB not accepted", args: []string{"--cache-memory", "1TiB"}, wantKey: keyCacheMemory, wantValue: "1TiB", wantIn: "MiB"},
		{name: "cache.memory overflows", args: []string{"--cache-memory", "99999999999GiB"}, wantKey: keyCacheMemory, wantValue: "99999999999GiB", wantIn: "MiB"},
		{name: "cache.memory unit only", args: []string{"--cache-memory", "MiB"}, wantKey: keyCacheMemory, wantValue: "MiB", wantIn: "MiB"},
		{name: "cache.min_ttl negative", args: []string{"--cache-min-ttl", "-1s"}, wantKey: keyCacheMinTTL, wantValue: "-1s", wantIn: "at least 0s"},
		{name: "cache.min_ttl without unit", env: []string{"ROOTWALK_CACHE_MIN_TTL=30"}, wantKey: keyCacheMinTTL, wantValue: "30", wantIn: "a number with a unit h, m, s or ms"},
		{name: "cache.min_ttl garbage", args: []string{"--cache-min-ttl", "soon"}, wantKey: keyCacheMinTTL, wantValue: "soon", wantIn: "such as 30s, 5m, 1h or 1h30m"},
		{name: "cache.min_ttl empty", env: []string{"ROOTWALK_CACHE_MIN_TTL="}, wantKey: keyCacheMinTTL, wantValue: "", wantIn: "at least 0s"},
		{name: "cache.max_ttl zero", args: []string{"--cache-max-ttl", "0s"}, wantKey: keyCacheMaxTTL, wantValue: "0s", wantIn: "at least 1s"},
		{name: "cache.max_ttl below a second", args: []string{"--cache-max-ttl", "999ms"}, wantKey: keyCacheMaxTTL, wantValue: "999ms", wantIn: "at least 1s"},
		{name: "cache.max_ttl negative", env: []string{"ROOTWALK_CACHE_MAX_TTL=-1h"}, wantKey: keyCacheMaxTTL, wantValue: "-1h", wantIn: "at least 1s"},
		{name: "cache.max_ttl days are no unit", args: []string{"--cache-max-ttl", "1d"}, wantKey: keyCacheMaxTTL, wantValue: "1d", wantIn: "h, m, s or ms"},
		{name: "cache.max_ttl overflows", args: []string{"--cache-max-ttl", "3000000h"}, wantKey: keyCacheMaxTTL, wantValue: "3000000h", wantIn: "at least 1s"},
		{name: "cache.negative_max_ttl bare zero", args: []string{"--cache-negative-max-ttl", "0"}, wantKey: keyCacheNegTTL, wantValue: "0", wantIn: "at least 1s"},
		{name: "cache.negative_max_ttl space before unit", env: []string{"ROOTWALK_CACHE_NEGATIVE_MAX_TTL=1 h"}, wantKey: keyCacheNegTTL, wantValue: "1 h", wantIn: "at least 1s"},
		{name: "cache.policy unknown", args: []string{"--cache-policy", "lfu"}, wantKey: keyCachePolicy, wantValue: "lfu", wantIn: "lru or 2q"},
		{name: "cache.policy empty", env: []string{"ROOTWALK_CACHE_POLICY="}, wantKey: keyCachePolicy, wantValue: "", wantIn: "lru or 2q"},
		{name: "cache.serve_stale not a bool", env: []string{"ROOTWALK_CACHE_SERVE_STALE=maybe"}, wantKey: keyServeStale, wantValue: "maybe", wantIn: "true or false"},
		{name: "forward_zones tls server with a bad name", args: []string{"--forward-zones", "corp.example=tls://10.0.0.53#a..b"}, wantKey: keyForwardZones, wantValue: "corp.example=tls://10.0.0.53#a..b", wantIn: "tls://"},
		{name: "dot.listen without a certificate", args: []string{"--dot-listen", "127.0.0.1:853", "--tls-key-file", "validate_test.go"}, wantKey: keyDoTListen, wantValue: "127.0.0.1:853", wantIn: "tls.cert_file and tls.key_file"},
		{name: "doq.listen not an address", args: []string{"--doq-listen", "853"}, wantKey: keyDoQListen, wantValue: "853", wantIn: "IP:PORT"},
		{name: "tls.key_file missing", args: []string{"--tls-key-file", "/nonexistent/key.pem"}, wantKey: keyTLSKey, wantValue: "/nonexistent/key.pem", wantIn: "readable PEM"},
		{name: "admin.allowed_hosts not a name", args: []string{"--admin-allowed-hosts", "a..b"}, wantKey: keyAdminHosts, wantValue: "a..b", wantIn: "host names"},
		{name: "cache.redis.addr no port", args: []string{"--cache-redis-addr", "redis.internal"}, wantKey: keyRedisAddr, wantValue: "redis.internal", wantIn: "HOST:PORT"},
		{name: "cache.redis.addr other scheme", env: []string{"ROOTWALK_CACHE_REDIS_ADDR=http://127.0.0.1:6379"}, wantKey: keyRedisAddr, wantValue: "http://127.0.0.1:6379", wantIn: "redis://"},
		{name: "cache.redis.addr port 0", args: []string{"--cache-redis-addr", "127.0.0.1:0"}, wantKey: keyRedisAddr, wantValue: "127.0.0.1:0", wantIn: "HOST:PORT"},
		{name: "cache.redis.timeout too long", args: []string{"--cache-redis-timeout", "5s"}, wantKey: keyRedisTimeout, wantValue: "5s", wantIn: "1ms to 1s"},
		{name: "cache.redis.timeout zero", args: []string{"--cache-redis-timeout", "0s"}, wantKey: keyRedisTimeout, wantValue: "0s", wantIn: "1ms to 1s"},
		{name: "cache.stale_max_age negative", args: []string{"--cache-stale-max-age", "-1s"}, wantKey: keyStaleMaxAge, wantValue: "-1s", wantIn: "at least 0s"},
		{name: "cache.stale_max_age garbage", env: []string{"ROOTWALK_CACHE_STALE_MAX_AGE=forever"}, wantKey: keyStaleMaxAge, wantValue: "forever", wantIn: "at least 0s"},
		{name: "cache.prefetch not a bool", env: []string{"ROOTWALK_CACHE_PREFETCH=sometimes"}, wantKey: keyPrefetch, wantValue: "sometimes", wantIn: "true or false"},
		{name: "acl.allow prefix too long", args: []string{"--acl-allow", "10.0.0.0/33"}, wantKey: keyACLAllow, wantValue: "10.0.0.0/33", wantIn: "CIDR"},
		{name: "acl.allow not an address", env: []string{"ROOTWALK_ACL_ALLOW=127.0.0.0/8,banana"}, wantKey: keyACLAllow, wantValue: "banana", wantIn: "CIDR"},
		{name: "acl.allow zoned address", args: []string{"--acl-allow", "fe80::1%eth0"}, wantKey: keyACLAllow, wantValue: "fe80::1%eth0", wantIn: "CIDR"},
		{name: "acl.deny bad octet", args: []string{"--acl-deny", "10.0.0.0/8", "--acl-deny", "300.1.1.1"}, wantKey: keyACLDeny, wantValue: "300.1.1.1", wantIn: "CIDR"},
		{name: "log.level unknown", args: []string{"--log-level", "verbose"}, wantKey: keyLogLevel, wantValue: "verbose", wantIn: "debug, info, warn or error"},
		{name: "log.level number", env: []string{"ROOTWALK_LOG_LEVEL=4"}, wantKey: keyLogLevel, wantValue: "4", wantIn: "debug, info, warn or error"},
		{name: "log.format unknown", args: []string{"--log-format", "xml"}, wantKey: keyLogFormat, wantValue: "xml", wantIn: "text or json"},
		{name: "log.format empty", env: []string{"ROOTWALK_LOG_FORMAT="}, wantKey: keyLogFormat, wantValue: "", wantIn: "text or json"},
	})
}

func TestGoodValues(t *testing.T) {
	checkGoodValues(t, []goodValue{
		{
			name:  "listen IPv6",
			l:     load{args: []string{"--listen", "[::1]:5353"}},
			check: func(c *Config) (any, any) { return c.Listen, netip.MustParseAddrPort("[::1]:5353") },
		},
		{
			name:  "listen with spaces from YAML",
			l:     load{yaml: "listen: ' 127.0.0.2:53 '\n"},
			check: func(c *Config) (any, any) { return c.Listen, netip.MustParseAddrPort("127.0.0.2:53") },
		},
		{
			name:  "upstream_port from YAML number",
			l:     load{yaml: "upstream_port: 5353\n"},
			check: func(c *Config) (any, any) { return c.UpstreamPort, uint16(5353) },
		},
		{
			name:  "ipv6 off by flag",
			l:     load{args: []string{"--ipv6=false"}},
			check: func(c *Config) (any, any) { return c.IPv6, false },
		},
		{
			name:  "ipv6 off by env",
			l:     load{env: []string{"ROOTWALK_IPV6=FALSE"}},
			check: func(c *Config) (any, any) { return c.IPv6, false },
		},
		{
			name:  "ipv6 off by YAML no",
			l:     load{yaml: "ipv6: no\n"},
			check: func(c *Config) (any, any) { return c.IPv6, false },
		},
		{
			name:  "admin.token kept as written",
			l:     load{env: []string{"ROOTWALK_ADMIN_TOKEN= s3cret "}},
			check: func(c *Config) (any, any) { return c.Admin.Token, " s3cret " },
		},
		{
			name:  "admin.token YAML number",
			l:     load{yaml: "admin:\n  token: 12345\n"},
			check: func(c *Config) (any, any) { return c.Admin.Token, "12345" },
		},
		{
			name:  "cache.size one",
			l:     load{args: []string{"--cache-size", "1"}},
			check: func(c *Config) (any, any) { return c.Cache.Size, 1 },
		},
		{
			name:  "cache.size YAML float",
			l:     load{yaml: "cache:\n  size: 1e3\n"},
			check: func(c *Config) (any, any) { return c.Cache.Size, 1000 },
		},
		{
			name: "acl bare IPs and host bits",
			l:    load{args: []string{"--acl-allow", "192.0.2.7,2001:db8::1", "--acl-allow", "10.1.2.3/8"}},
			check: func(c *Config) (any, any) {
				return prefixStrings(c.ACL.Allow), "192.0.2.7/32 2001:db8::1/128 10.0.0.0/8"
			},
		},
		{
			name:  "acl YAML list",
			l:     load{yaml: "acl:\n  deny:\n    - 10.9.0.0/16\n    - ::1\n"},
			check: func(c *Config) (any, any) { return prefixStrings(c.ACL.Deny), "10.9.0.0/16 ::1/128" },
		},
		{
			name:  "acl YAML comma-separated string",
			l:     load{yaml: "acl:\n  deny: 10.9.0.0/16, 10.8.0.0/16\n"},
			check: func(c *Config) (any, any) { return prefixStrings(c.ACL.Deny), "10.9.0.0/16 10.8.0.0/16" },
		},
		{
			name:  "acl empty env allows nobody",
			l:     load{env: []string{"ROOTWALK_ACL_ALLOW="}},
			check: func(c *Config) (any, any) { return len(c.ACL.Allow), 0 },
		},
		{
			name:  "acl env trailing comma",
			l:     load{env: []string{"ROOTWALK_ACL_DENY=10.0.0.0/8,"}},
			check: func(c *Config) (any, any) { return prefixStrings(c.ACL.Deny), "10.0.0.0/8" },
		},
		{
			name:  "log.level debug upper case",
			l:     load{env: []string{"ROOTWALK_LOG_LEVEL=DEBUG"}},
			check: func(c *Config) (any, any) { return c.Log.Level, slog.LevelDebug },
		},
		{
			name:  "log.level warn",
			l:     load{args: []string{"--log-level", "warn"}},
			check: func(c *Config) (any, any) { return c.Log.Level, slog.LevelWarn },
		},
		{
			name:  "log.level error",
			l:     load{yaml: "log:\n  level: error\n"},
			check: func(c *Config) (any, any) { return c.Log.Level, slog.LevelError },
		},
		{
			name:  "log.format json",
			l:     load{args: []string{"--log-format", "json"}},
			check: func(c *Config) (any, any) { return c.Log.Format, LogJSON },
		},
		{
			name:  "cache.file from flag",
			l:     load{args: []string{"--cache-file", "/var/lib/rootwalk/cache"}},
			check: func(c *Config) (any, any) { return c.Cache.File, "/var/lib/rootwalk/cache" },
		},
		{
			name:  "cache.file need not exist",
			l:     load{env: []string{"ROOTWALK_CACHE_FILE=no/such/folder/cache"}},
			check: func(c *Config) (any, any) { return c.Cache.File, "no/such/folder/cache" },
		},
		{
			name:  "cache.file empty env over file is off",
			l:     load{yaml: "cache:\n  file: /tmp/cache\n", env: []string{"ROOTWALK_CACHE_FILE="}},
			check: func(c *Config) (any, any) { return c.Cache.File, "" },
		},
		{
			name:  "cache.file spaces from YAML dropped",
			l:     load{yaml: "cache:\n  file: ' cache.bin '\n"},
			check: func(c *Config) (any, any) { return c.Cache.File, "cache.bin" },
		},
		{
			name:  "cache.min_ttl seconds",
			l:     load{args: []string{"--cache-min-ttl", "30s"}},
			check: func(c *Config) (any, any) { return c.Cache.MinTTL, 30 * time.Second },
		},
		{
			name:  "cache.min_ttl combined units",
			l:     load{env: []string{"ROOTWALK_CACHE_MIN_TTL=1m30s"}},
			check: func(c *Config) (any, any) { return c.Cache.MinTTL, 90 * time.Second },
		},
		{
			name:  "cache.min_ttl YAML bare zero",
			l:     load{yaml: "cache:\n  min_ttl: 0\n"},
			check: func(c *Config) (any, any) { return c.Cache.MinTTL, time.Duration(0) },
		},
		{
			name:  "cache.min_ttl fraction dropped",
			l:     load{args: []string{"--cache-min-ttl", "1.9s"}},
			check: func(c *Config) (any, any) { return c.Cache.MinTTL, time.Second },
		},
		{
			name:  "cache.min_ttl below a second is zero",
			l:     load{args: []string{"--cache-min-ttl", "500ms"}},
			check: func(c *Config) (any, any) { return c.Cache.MinTTL, time.Duration(0) },
		},
		{
			name:  "cache.max_ttl one second",
			l:     load{args: []string{"--cache-max-ttl", "1s"}},
			check: func(c *Config) (any, any) { return c.Cache.MaxTTL, time.Second },
		},
		{
			name:  "cache.max_ttl fraction dropped",
			l:     load{env: []string{"ROOTWALK_CACHE_MAX_TTL=1500ms"}},
			check: func(c *Config) (any, any) { return c.Cache.MaxTTL, time.Second },
		},
		{
			name:  "cache.max_ttl fractional hours",
			l:     load{yaml: "cache:\n  max_ttl: 1.5h\n"},
			check: func(c *Config) (any, any) { return c.Cache.MaxTTL, 90 * time.Minute },
		},
		{
			name:  "cache.max_ttl with spaces",
			l:     load{env: []string{"ROOTWALK_CACHE_MAX_TTL= 2h "}},
			check: func(c *Config) (any, any) { return c.Cache.MaxTTL, 2 * time.Hour },
		},
		{
			name:  "cache.negative_max_ttl one second",
			l:     load{args: []string{"--cache-negative-max-ttl", "1s"}},
			check: func(c *Config) (any, any) { return c.Cache.NegativeMaxTTL, time.Second },
		},
		{
			name:  "cache.negative_max_ttl from YAML",
			l:     load{yaml: "cache:\n  negative_max_ttl: 5m\n"},
			check: func(c *Config) (any, any) { return c.Cache.NegativeMaxTTL, 5 * time.Minute },
		},
		{
			name:  "cache.policy 2q",
			l:     load{args: []string{"--cache-policy", "2q"}},
			check: func(c *Config) (any, any) { return c.Cache.Policy, Cache2Q },
		},
		{
			name:  "cache.policy upper case",
			l:     load{env: []string{"ROOTWALK_CACHE_POLICY=2Q"}},
			check: func(c *Config) (any, any) { return c.Cache.Policy, Cache2Q },
		},
		{
			name:  "cache.policy LRU with spaces from YAML",
			l:     load{yaml: "cache:\n  policy: ' LRU '\n"},
			check: func(c *Config) (any, any) { return c.Cache.Policy, CacheLRU },
		},
		{
			name:  "cache.serve_stale off by flag",
			l:     load{args: []string{"--cache-serve-stale=false"}},
			check: func(c *Config) (any, any) { return c.Cache.ServeStale, false },
		},
		{
			name:  "cache.serve_stale off by env",
			l:     load{env: []string{"ROOTWALK_CACHE_SERVE_STALE=no"}},
			check: func(c *Config) (any, any) { return c.Cache.ServeStale, false },
		},
		{
			name:  "cache.stale_max_age zero with serve_stale on",
			l:     load{args: []string{"--cache-serve-stale", "--cache-stale-max-age", "0s"}},
			check: func(c *Config) (any, any) { return c.Cache.StaleMaxAge, time.Duration(0) },
		},
		{
			name:  "cache.stale_max_age keeps its fraction",
			l:     load{env: []string{"ROOTWALK_CACHE_STALE_MAX_AGE=1.5s"}},
			check: func(c *Config) (any, any) { return c.Cache.StaleMaxAge, 1500 * time.Millisecond },
		},
		{
			name:  "cache.stale_max_age from YAML",
			l:     load{yaml: "cache:\n  stale_max_age: 72h\n"},
			check: func(c *Config) (any, any) { return c.Cache.StaleMaxAge, 72 * time.Hour },
		},
		{
			name: "cache.redis from YAML",
			l:    load{yaml: "cache:\n  redis:\n    addr: rediss://:pw@redis.internal:6380/2\n    seed: s3cret\n    timeout: 20ms\n"},
			check: func(c *Config) (any, any) {
				return c.Cache.Redis, Redis{Addr: "rediss://:pw@redis.internal:6380/2", Seed: "s3cret", Timeout: 20 * time.Millisecond}
			},
		},
		{
			name: "forward_zones with servers over TLS",
			l:    load{args: []string{"--forward-zones", "corp.example=10.0.0.53+tls://[fd00::53]#DNS.Corp.Example+tls://10.0.0.54:8853"}},
			check: func(c *Config) (any, any) {
				z := c.ForwardZones[0]
				return fmt.Sprint(z.Servers, " ", z.TLS[netip.MustParseAddrPort("[fd00::53]:853")], " ", len(z.TLS)),
					"[10.0.0.53:53 [fd00::53]:853 10.0.0.54:8853] dns.corp.example 2"
			},
		},
		{
			name: "admin.allowed_hosts by env, as Host headers carry them",
			l:    load{env: []string{"ROOTWALK_ADMIN_ALLOWED_HOSTS=Resolver.Example.NET.,console.lan"}},
			check: func(c *Config) (any, any) {
				return strings.Join(c.Admin.AllowedHosts, " "), "resolver.example.net console.lan"
			},
		},
		{
			name:  "cache.redis.addr host:port by env",
			l:     load{env: []string{"ROOTWALK_CACHE_REDIS_ADDR=[::1]:6379"}},
			check: func(c *Config) (any, any) { return c.Cache.Redis.Addr, "[::1]:6379" },
		},
		{
			name:  "cache.prefetch off by env",
			l:     load{env: []string{"ROOTWALK_CACHE_PREFETCH=0"}},
			check: func(c *Config) (any, any) { return c.Cache.Prefetch, false },
		},
		{
			name:  "cache.prefetch off by YAML",
			l:     load{yaml: "cache:\n  prefetch: false\n"},
			check: func(c *Config) (any, any) { return c.Cache.Prefetch, false },
		},
		{
			name:  "YAML keys are case-insensitive",
			l:     load{yaml: "Cache:\n  Size: 9\n"},
			check: func(c *Config) (any, any) { return c.Cache.Size, 9 },
		},
	})
}

// badValue is a setting given one bad value, by flag or environment, and
// the field error it must make: key, value, and a piece of the Want text.
type badValue struct {
	name      string
	args      []string
	env       []string
	wantKey   string
	wantValue string
	wantIn    string // a piece of the Want text
}

// checkBadValues loads each case and checks that it fails with one line,
// the field error naming key, value and source (the flag, or the
// environment variable).
func checkBadValues(t *testing.T, tests []badValue) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadErr(t, load{args: tc.args, env: tc.env})
			if n := len(errLines(err)); n != 1 {
				t.Fatalf("got %d lines, want 1:\n%v", n, err)
			}
			source := ""
			if len(tc.args) > 0 {
				source = tc.args[0]
			} else {
				source, _, _ = strings.Cut(tc.env[0], "=")
			}
			wantFieldError(t, err, tc.wantKey, tc.wantValue, source)
			if fe := fieldErrors(err); !strings.Contains(fe[0].Want, tc.wantIn) {
				t.Errorf("got want %q, want it to contain %q", fe[0].Want, tc.wantIn)
			}
		})
	}
}

// goodValue is a load that must succeed, and what check reads from the
// Config it gives, beside what it must be.
type goodValue struct {
	name  string
	l     load
	check func(*Config) (got, want any)
}

// checkGoodValues loads each case and compares what check returns.
func checkGoodValues(t *testing.T, tests []goodValue) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want := tc.check(mustLoad(t, tc.l))
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// prefixStrings joins prefixes with spaces, for comparison.
func prefixStrings(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

// TestCacheMemorySpellings checks every accepted way to write a size.
func TestCacheMemorySpellings(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{in: "1048576", want: 1 << 20},
		{in: "1048576B", want: 1 << 20},
		{in: "1048576b", want: 1 << 20},
		{in: "2000KB", want: 2_000_000},
		{in: "2000kb", want: 2_000_000},
		{in: "5MB", want: 5_000_000},
		{in: "5mb", want: 5_000_000},
		{in: "1GB", want: 1_000_000_000},
		{in: "1Gb", want: 1_000_000_000},
		{in: "1024KiB", want: 1 << 20},
		{in: "1024kib", want: 1 << 20},
		{in: "128MiB", want: 128 << 20},
		{in: "128mib", want: 128 << 20},
		{in: "128MIB", want: 128 << 20},
		{in: "128 MiB", want: 128 << 20},
		{in: " 128MiB ", want: 128 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "1.5GiB", want: 3 << 29},
		// The largest GiB count whose bytes fit an int64: 2^33-1 GiB.
		{in: "8589934591GiB", want: (1<<33 - 1) << 30},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			cfg := mustLoad(t, load{args: []string{"--cache-memory", tc.in}})
			if cfg.Cache.Memory != tc.want {
				t.Errorf("got %d bytes, want %d", cfg.Cache.Memory, tc.want)
			}
		})
	}
	t.Run("YAML integer", func(t *testing.T) {
		cfg := mustLoad(t, load{yaml: "cache:\n  memory: 134217728\n"})
		if want := int64(128 << 20); cfg.Cache.Memory != want {
			t.Errorf("got %d bytes, want %d", cfg.Cache.Memory, want)
		}
	})
}

func TestRootHints(t *testing.T) {
	hints := writeFile(t, "named.root", ".  3600000  NS  A.ROOT-SERVERS.NET.\n")
	missing := filepath.Join(t.TempDir(), "named.root")
	dir := t.TempDir()
	tests := []struct {
		name    string
		l       load
		want    RootHints
		wantErr string // substring of the only error line, if one is expected
	}{
		{name: "default iana", l: load{}, want: RootHints{Kind: HintsIANA}},
		{name: "lab", l: load{args: []string{"--root-hints", "lab"}}, want: RootHints{Kind: HintsLab}},
		{name: "existing file", l: load{args: []string{"--root-hints", hints}}, want: RootHints{Kind: HintsFile, Path: hints}},
		{name: "existing file from env", l: load{env: []string{"ROOTWALK_ROOT_HINTS=" + hints}}, want: RootHints{Kind: HintsFile, Path: hints}},
		{name: "missing file", l: load{args: []string{"--root-hints", missing}}, wantErr: `root_hints: "` + missing + `" is not valid; want iana, lab, or the path of a readable named.root-format file (no such file or directory) (from --root-hints)`},
		{name: "directory", l: load{args: []string{"--root-hints", dir}}, wantErr: "(is a directory)"},
		{name: "keyword case matters", l: load{args: []string{"--root-hints", "IANA"}}, wantErr: `root_hints: "IANA" is not valid`},
		{name: "empty", l: load{env: []string{"ROOTWALK_ROOT_HINTS="}}, wantErr: `root_hints: "" is not valid`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErr != "" {
				err := loadErr(t, tc.l)
				if lines := errLines(err); len(lines) != 1 || !strings.Contains(lines[0], tc.wantErr) {
					t.Errorf("got error:\n%v\nwant one line containing %q", err, tc.wantErr)
				}
				return
			}
			if got := mustLoad(t, tc.l).RootHints; got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestLab covers the rules between the lab and the upstream settings.
func TestLab(t *testing.T) {
	hints := writeFile(t, "named.root", ".  3600000  NS  A.ROOT-SERVERS.NET.\n")
	tests := []struct {
		name         string
		l            load
		wantUpstream uint16
		wantErr      []string // lines' prefixes, if errors are expected
	}{
		{name: "default upstream_port follows lab.port", l: load{args: []string{"--lab"}}, wantUpstream: 10053},
		{name: "lab.port moves upstream", l: load{args: []string{"--lab", "--lab-port", "5300"}}, wantUpstream: 5300},
		{name: "explicit upstream_port equal to lab.port", l: load{args: []string{"--lab", "--upstream-port", "10053"}}, wantUpstream: 10053},
		{name: "lab by env", l: load{env: []string{"ROOTWALK_LAB_ENABLED=true", "ROOTWALK_LAB_PORT=5301"}}, wantUpstream: 5301},
		{name: "lab with root_hints lab", l: load{args: []string{"--lab", "--root-hints", "lab"}}, wantUpstream: 10053},
		{name: "lab off keeps upstream_port", l: load{args: []string{"--upstream-port", "5353", "--lab-port", "5300"}}, wantUpstream: 5353},
		{
			name:    "lab with root_hints file",
			l:       load{args: []string{"--lab", "--root-hints", hints}},
			wantErr: []string{`root_hints: "` + hints + `" is not valid; want iana or lab while lab.enabled is true`},
		},
		{
			name:    "lab with missing root_hints file says lab",
			l:       load{yaml: "lab:\n  enabled: true\nroot_hints: /nonexistent/named.root\n"},
			wantErr: []string{`root_hints: "/nonexistent/named.root" is not valid; want iana or lab while lab.enabled is true`},
		},
		{
			name:    "lab with explicit upstream_port flag",
			l:       load{args: []string{"--lab", "--upstream-port", "53"}},
			wantErr: []string{`upstream_port: "53" is not valid; want 10053, the value of lab.port, or no upstream_port at all: with lab.enabled the resolver asks the lab's servers on lab.port (from --upstream-port)`},
		},
		{
			name:    "lab with upstream_port from file",
			l:       load{yaml: "upstream_port: 53\nlab:\n  enabled: true\n"},
			wantErr: []string{`upstream_port: "53" is not valid; want 10053, the value of lab.port`},
		},
		{
			name:    "lab with upstream_port from env",
			l:       load{args: []string{"--lab", "--lab-port", "5300"}, env: []string{"ROOTWALK_UPSTREAM_PORT=10053"}},
			wantErr: []string{`upstream_port: "10053" is not valid; want 5300, the value of lab.port`},
		},
		{
			name: "lab with both mistakes",
			l:    load{args: []string{"--lab", "--root-hints", hints, "--upstream-port", "53"}},
			wantErr: []string{
				`root_hints: "` + hints + `" is not valid; want iana or lab`,
				`upstream_port: "53" is not valid; want 10053`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErr != nil {
				lines := errLines(loadErr(t, tc.l))
				if len(lines) != len(tc.wantErr) {
					t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tc.wantErr), strings.Join(lines, "\n"))
				}
				for i, want := range tc.wantErr {
					if !strings.HasPrefix(lines[i], want) {
						t.Errorf("line %d: got  %s\nwant prefix %s", i+1, lines[i], want)
					}
				}
				return
			}
			cfg := mustLoad(t, tc.l)
			if cfg.UpstreamPort != tc.wantUpstream {
				t.Errorf("got upstream_port %d, want %d", cfg.UpstreamPort, tc.wantUpstream)
			}
			if cfg.Lab.Enabled && cfg.RootHints != (RootHints{Kind: HintsLab}) {
				t.Errorf("got root hints %+v with the lab, want the lab's", cfg.RootHints)
			}
		})
	}
}

// TestCacheTTLOrder checks that cache.min_ttl may not exceed cache.max_ttl,
// whichever layers set them, and that the error names both keys.
func TestCacheTTLOrder(t *testing.T) {
	tests := []struct {
		name    string
		l       load
		wantMin time.Duration
		wantMax time.Duration
		wantErr string // the only error line's prefix, if one is expected
	}{
		{name: "equal", l: load{args: []string{"--cache-min-ttl", "1h", "--cache-max-ttl", "1h"}}, wantMin: time.Hour, wantMax: time.Hour},
		{name: "equal in whole seconds", l: load{args: []string{"--cache-min-ttl", "1.9s", "--cache-max-ttl", "1.2s"}}, wantMin: time.Second, wantMax: time.Second},
		{name: "max lowered, min still below", l: load{env: []string{"ROOTWALK_CACHE_MAX_TTL=1s"}}, wantMin: 0, wantMax: time.Second},
		{
			name:    "min above the default max",
			l:       load{args: []string{"--cache-min-ttl", "48h"}},
			wantErr: `cache.min_ttl: "48h" is not valid; want a duration no longer than 24h, the value of cache.max_ttl (from --cache-min-ttl)`,
		},
		{
			name:    "min and max from the environment",
			l:       load{env: []string{"ROOTWALK_CACHE_MIN_TTL=2h", "ROOTWALK_CACHE_MAX_TTL=1h"}},
			wantErr: `cache.min_ttl: "2h" is not valid; want a duration no longer than 1h, the value of cache.max_ttl (from ROOTWALK_CACHE_MIN_TTL)`,
		},
		{
			name:    "min from file, max from flag",
			l:       load{yaml: "cache:\n  min_ttl: 10m\n", args: []string{"--cache-max-ttl", "5m"}},
			wantErr: `cache.min_ttl: "10m" is not valid; want a duration no longer than 5m, the value of cache.max_ttl (from `,
		},
		{
			name:    "bad max is the only error",
			l:       load{args: []string{"--cache-min-ttl", "48h", "--cache-max-ttl", "0s"}},
			wantErr: `cache.max_ttl: "0s" is not valid; want a duration of at least 1s`,
		},
		{
			name:    "bad min is the only error",
			l:       load{args: []string{"--cache-min-ttl", "-48h", "--cache-max-ttl", "1h"}},
			wantErr: `cache.min_ttl: "-48h" is not valid; want a duration of at least 0s`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErr != "" {
				err := loadErr(t, tc.l)
				if lines := errLines(err); len(lines) != 1 || !strings.HasPrefix(lines[0], tc.wantErr) {
					t.Errorf("got error:\n%v\nwant one line starting %q", err, tc.wantErr)
				}
				return
			}
			cfg := mustLoad(t, tc.l)
			if cfg.Cache.MinTTL != tc.wantMin || cfg.Cache.MaxTTL != tc.wantMax {
				t.Errorf("got min_ttl %v max_ttl %v, want %v and %v", cfg.Cache.MinTTL, cfg.Cache.MaxTTL, tc.wantMin, tc.wantMax)
			}
		})
	}
}

func TestParseDurationDirect(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{in: "0", want: 0, wantOK: true},
		{in: "0s", want: 0, wantOK: true},
		{in: "-0s", want: 0, wantOK: true},
		{in: "30s", want: 30 * time.Second, wantOK: true},
		{in: "1h30m", want: 90 * time.Minute, wantOK: true},
		{in: "24h", want: 24 * time.Hour, wantOK: true},
		{in: "250ms", want: 250 * time.Millisecond, wantOK: true},
		{in: " 5m ", want: 5 * time.Minute, wantOK: true},
		{in: "", wantOK: false},
		{in: "30", wantOK: false},
		{in: "-1s", wantOK: false},
		{in: "1d", wantOK: false},
		{in: "s", wantOK: false},
		{in: "1e3s", wantOK: false},
		{in: "9999999999h", wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseDuration(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("parseDuration(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseBytesDirect(t *testing.T) {
	tests := []struct {
		in     string
		want   int64
		wantOK bool
	}{
		{in: "0", want: 0, wantOK: true},
		{in: "10", want: 10, wantOK: true},
		{in: "1.5KiB", want: 1536, wantOK: true},
		{in: "", wantOK: false},
		{in: "5.", wantOK: false},
		{in: ".5MiB", wantOK: false},
		{in: "1 2MiB", wantOK: false},
		{in: "1e6", wantOK: false},
		{in: "٣MiB", wantOK: false},
		{in: "9223372036854775808", wantOK: false},
		{in: "9223372036854775807", want: 9223372036854775807, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseBytes(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("parseBytes(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{in: "", want: []string{}},
		{in: "a", want: []string{"a"}},
		{in: " a , b ,", want: []string{"a", "b"}},
		{in: ",,", want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := splitList(tc.in); !slices.Equal(got, tc.want) || got == nil {
				t.Errorf("splitList(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}
