package config

import (
	"strings"
	"testing"
)

// TestPolicyBadValues checks the ACL action, rate limit, recursion limit
// and identity settings as TestBadValues does the others: one bad value,
// one line naming key, value and source.
func TestPolicyBadValues(t *testing.T) {
	checkBadValues(t, []badValue{
		{name: "acl.action unknown", args: []string{"--acl-action", "ignore"}, wantKey: keyACLAction, wantValue: "ignore", wantIn: "refuse or drop"},
		{name: "acl.action empty", env: []string{"ROOTWALK_ACL_ACTION="}, wantKey: keyACLAction, wantValue: "", wantIn: "refuse or drop"},
		{name: "ratelimit.action unknown", env: []string{"ROOTWALK_RATELIMIT_ACTION=tarpit"}, wantKey: keyRateAction, wantValue: "tarpit", wantIn: "refuse or drop"},
		{name: "ratelimit.qps negative", args: []string{"--ratelimit-qps", "-1"}, wantKey: keyRateQPS, wantValue: "-1", wantIn: "from 0"},
		{name: "ratelimit.qps not a number", env: []string{"ROOTWALK_RATELIMIT_QPS=fast"}, wantKey: keyRateQPS, wantValue: "fast", wantIn: "such as 20 or 0.5"},
		{name: "ratelimit.qps infinite", env: []string{"ROOTWALK_RATELIMIT_QPS=+Inf"}, wantKey: keyRateQPS, wantValue: "+Inf", wantIn: "from 0 to 100000"},
		{name: "ratelimit.qps NaN", env: []string{"ROOTWALK_RATELIMIT_QPS=NaN"}, wantKey: keyRateQPS, wantValue: "NaN", wantIn: "from 0 to 100000"},
		{name: "ratelimit.qps too big", args: []string{"--ratelimit-qps", "100001"}, wantKey: keyRateQPS, wantValue: "100001", wantIn: "from 0 to 100000"},
		{name: "ratelimit.burst negative", args: []string{"--ratelimit-burst", "-1"}, wantKey: keyRateBurst, wantValue: "-1", wantIn: "from 0 to 1000000"},
		{name: "ratelimit.burst fraction", env: []string{"ROOTWALK_RATELIMIT_BURST=2.5"}, wantKey: keyRateBurst, wantValue: "2.5", wantIn: "integer"},
		{name: "ratelimit.burst too big", env: []string{"ROOTWALK_RATELIMIT_BURST=1000001"}, wantKey: keyRateBurst, wantValue: "1000001", wantIn: "from 0 to 1000000"},
		{name: "limits.max_recursions zero", args: []string{"--limits-max-recursions", "0"}, wantKey: keyMaxRecursion, wantValue: "0", wantIn: "from 1 to 1000000"},
		{name: "limits.max_recursions negative", env: []string{"ROOTWALK_LIMITS_MAX_RECURSIONS=-5"}, wantKey: keyMaxRecursion, wantValue: "-5", wantIn: "from 1"},
		{name: "limits.max_recursions not a number", env: []string{"ROOTWALK_LIMITS_MAX_RECURSIONS=many"}, wantKey: keyMaxRecursion, wantValue: "many", wantIn: "integer"},
		{name: "upstream.max_qps_per_server negative", args: []string{"--upstream-max-qps-per-server", "-1"}, wantKey: keyUpstreamQPS, wantValue: "-1", wantIn: "from 0 to 1000000"},
		{name: "upstream.max_qps_per_server not a number", env: []string{"ROOTWALK_UPSTREAM_MAX_QPS_PER_SERVER=lots"}, wantKey: keyUpstreamQPS, wantValue: "lots", wantIn: "queries a second to one server"},
		{name: "upstream.max_outstanding negative", env: []string{"ROOTWALK_UPSTREAM_MAX_OUTSTANDING=-1"}, wantKey: keyOutstanding, wantValue: "-1", wantIn: "from 0 to 1000000"},
		{name: "server.cookie_secret short", args: []string{"--server-cookie-secret", "abcd"}, wantKey: keyCookieSecret, wantValue: "abcd", wantIn: "32 hex digits"},
		{name: "server.cookie_secret not hex", env: []string{"ROOTWALK_SERVER_COOKIE_SECRET=" + strings.Repeat("z", 32)}, wantKey: keyCookieSecret, wantValue: strings.Repeat("z", 32), wantIn: "32 hex digits"},
		{name: "tcp.idle_timeout too short", args: []string{"--tcp-idle-timeout", "10ms"}, wantKey: keyTCPIdle, wantValue: "10ms", wantIn: "at least 100ms"},
		{name: "tcp.max_connections negative", env: []string{"ROOTWALK_TCP_MAX_CONNECTIONS=-1"}, wantKey: keyTCPConns, wantValue: "-1", wantIn: "from 0 to 1000000"},
		{name: "server.identity too long", env: []string{"ROOTWALK_SERVER_IDENTITY=" + strings.Repeat("x", 256)}, wantKey: keyIdentity, wantValue: strings.Repeat("x", 256), wantIn: "at most 255 bytes"},
	})
}

func TestPolicyGoodValues(t *testing.T) {
	checkGoodValues(t, []goodValue{
		{
			name:  "acl.action drop",
			l:     load{args: []string{"--acl-action", "drop"}},
			check: func(c *Config) (any, any) { return c.ACL.Action, ActionDrop },
		},
		{
			name:  "acl.action upper case from YAML",
			l:     load{yaml: "acl:\n  action: ' DROP '\n"},
			check: func(c *Config) (any, any) { return c.ACL.Action, ActionDrop },
		},
		{
			name:  "ratelimit off keeps burst 0",
			l:     load{env: []string{"ROOTWALK_RATELIMIT_QPS=0"}},
			check: func(c *Config) (any, any) { return c.RateLimit, RateLimit{Action: ActionRefuse} },
		},
		{
			name:  "ratelimit.burst defaults to twice qps",
			l:     load{args: []string{"--ratelimit-qps", "20"}},
			check: func(c *Config) (any, any) { return c.RateLimit, RateLimit{QPS: 20, Burst: 40, Action: ActionRefuse} },
		},
		{
			name:  "ratelimit.burst of a fractional qps rounds up",
			l:     load{env: []string{"ROOTWALK_RATELIMIT_QPS=0.3"}},
			check: func(c *Config) (any, any) { return c.RateLimit.Burst, 1 },
		},
		{
			name:  "ratelimit.qps YAML exponent",
			l:     load{yaml: "ratelimit:\n  qps: 1e3\n"},
			check: func(c *Config) (any, any) { return c.RateLimit.QPS, 1000.0 },
		},
		{
			name: "ratelimit all three from YAML",
			l:    load{yaml: "ratelimit:\n  qps: 2.5\n  burst: 7\n  action: drop\n"},
			check: func(c *Config) (any, any) {
				return c.RateLimit, RateLimit{QPS: 2.5, Burst: 7, Action: ActionDrop}
			},
		},
		{
			name:  "ratelimit.qps flag over env",
			l:     load{args: []string{"--ratelimit-qps", "5"}, env: []string{"ROOTWALK_RATELIMIT_QPS=50"}},
			check: func(c *Config) (any, any) { return c.RateLimit.QPS, 5.0 },
		},
		{
			name: "upstream limits off",
			l:    load{args: []string{"--upstream-max-qps-per-server", "0", "--upstream-max-outstanding", "0"}},
			check: func(c *Config) (any, any) {
				return [2]any{c.Limits.UpstreamQPS, c.Limits.UpstreamOutstanding}, [2]any{0.0, 0}
			},
		},
		{
			name: "server.cookie_secret from YAML",
			l:    load{yaml: "server:\n  cookie_secret: 000102030405060708090A0B0C0D0E0F\n"},
			check: func(c *Config) (any, any) {
				return string(c.Server.CookieSecret), "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
			},
		},
		{
			name:  "limits.max_recursions one",
			l:     load{args: []string{"--limits-max-recursions", "1"}},
			check: func(c *Config) (any, any) { return c.Limits.MaxRecursions, 1 },
		},
		{
			name:  "limits.max_recursions from YAML",
			l:     load{yaml: "limits:\n  max_recursions: 10000\n"},
			check: func(c *Config) (any, any) { return c.Limits.MaxRecursions, 10000 },
		},
		{
			name:  "server.identity as written",
			l:     load{env: []string{"ROOTWALK_SERVER_IDENTITY=resolver-1.example "}},
			check: func(c *Config) (any, any) { return c.Server.Identity, "resolver-1.example " },
		},
		{
			name:  "server.identity of 255 bytes",
			l:     load{yaml: "server:\n  identity: " + strings.Repeat("y", 255) + "\n"},
			check: func(c *Config) (any, any) { return c.Server.Identity, strings.Repeat("y", 255) },
		},
	})
}
