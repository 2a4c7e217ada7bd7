package config

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
)

// Bounds of the settings that protect the server. They are far above any
// sensible value and only keep typos (an extra zero or three) out.
const (
	// maxQPS bounds ratelimit.qps: one client asking more than this a
	// second is more than rootwalk answers for all its clients together.
	maxQPS = 100_000
	// maxBurst bounds ratelimit.burst.
	maxBurst = 1_000_000
	// maxMaxRecursions bounds limits.max_recursions: each resolution in
	// progress holds a goroutine and its walk's state.
	maxMaxRecursions = 1_000_000
	// maxIdentity is the longest server.identity: one TXT
	// character-string (RFC 1035 section 3.3).
	maxIdentity = 255
	// maxUpstreamQPS and maxOutstanding bound the upstream limits.
	maxUpstreamQPS = 1_000_000
	maxOutstanding = 1_000_000
	// cookieSecretLen is the length of server.cookie_secret in bytes.
	cookieSecretLen = 16
)

// What the ACL action, rate limit, recursion limit and identity settings
// accept, as the "want" of their errors.
const (
	wantAction        = "refuse or drop"
	wantQPS           = "a number from 0 to 100000, such as 20 or 0.5 (queries a second per client); 0 turns rate limiting off"
	wantBurst         = "an integer from 0 to 1000000; 0 means twice ratelimit.qps"
	wantMaxRecursions = "an integer from 1 to 1000000"
	wantIdentity      = "a string of at most 255 bytes (one TXT string), or empty to refuse CHAOS queries"
	wantUpstreamQPS   = "a number from 0 to 1000000 (queries a second to one server); 0 turns the limit off"
	wantOutstanding   = "an integer from 0 to 1000000; 0 means no bound"
	wantCookieSecret  = "32 hex digits (16 bytes), or empty for a random secret"
)

// rawRateLimit, rawLimits and rawServer are sections of rawConfig.
type rawRateLimit struct {
	QPS    any `mapstructure:"qps"`
	Burst  any `mapstructure:"burst"`
	Action any `mapstructure:"action"`
}

type rawLimits struct {
	MaxRecursions any `mapstructure:"max_recursions"`
}

type rawServer struct {
	Identity     any `mapstructure:"identity"`
	CookieSecret any `mapstructure:"cookie_secret"`
}

// parseFloat reads a finite decimal number, such as 20, 0.5 or 1e3.
func parseFloat(v any) (float64, bool) {
	s, ok := scalar(v)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// action reads acl.action or ratelimit.action: refuse or drop, in any case.
func (b *builder) action(key string, raw any) Action {
	s, ok := b.scalarOf(key, raw, wantAction)
	if !ok {
		return ActionRefuse
	}
	switch a := Action(strings.ToLower(strings.TrimSpace(s))); a {
	case ActionRefuse, ActionDrop:
		return a
	}
	b.fail(key, s, wantAction)
	return ActionRefuse
}

// intIn reads a whole number from least to most.
func (b *builder) intIn(key string, raw any, least, most int64, want string) int {
	v := b.value(key, raw)
	n, ok := parseInt(v)
	if !ok || n < least || n > most {
		b.fail(key, v, want)
		return 0
	}
	return int(n)
}

// rateLimit reads the ratelimit.* settings. A burst left at 0 is twice
// the rate, rounded up: enough for a stub's usual pair of A and AAAA
// queries, or a browser's few at once, without letting a client go
// further above its rate.
func (b *builder) rateLimit(raw rawRateLimit) RateLimit {
	var r RateLimit
	r.QPS = b.floatIn(keyRateQPS, raw.QPS, maxQPS, wantQPS)
	r.Burst = b.intIn(keyRateBurst, raw.Burst, 0, maxBurst, wantBurst)
	r.Action = b.action(keyRateAction, raw.Action)
	if r.Enabled() && r.Burst == 0 {
		r.Burst = int(math.Ceil(2 * r.QPS))
	}
	return r
}

// floatIn reads a finite number from 0 to most.
func (b *builder) floatIn(key string, raw any, most float64, want string) float64 {
	v := b.value(key, raw)
	f, ok := parseFloat(v)
	if !ok || f < 0 || f > most {
		b.fail(key, v, want)
		return 0
	}
	return f
}

// cookieSecret reads server.cookie_secret: 32 hex digits, or empty.
func (b *builder) cookieSecret(raw any) []byte {
	s := strings.TrimSpace(b.str(keyCookieSecret, raw))
	if s == "" {
		return nil
	}
	secret, err := hex.DecodeString(s)
	if err != nil || len(secret) != cookieSecretLen {
		b.fail(keyCookieSecret, s, wantCookieSecret)
		return nil
	}
	return secret
}

// identity reads server.identity as written, spaces and all: it is
// answered to clients exactly as the operator put it.
func (b *builder) identity(raw any) string {
	s := b.str(keyIdentity, raw)
	if len(s) > maxIdentity {
		b.fail(keyIdentity, s, wantIdentity)
		return ""
	}
	return s
}
