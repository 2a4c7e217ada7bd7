package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// checkTTLOrder refuses a cache.min_ttl above cache.max_ttl, which no TTL
// could satisfy. The error is on cache.min_ttl, since only a min_ttl that
// someone set can be above any valid max_ttl, and names cache.max_ttl and
// its value.
func (b *builder) checkTTLOrder(c Cache, rawMin, rawMax any) {
	if c.MinTTL <= c.MaxTTL {
		return
	}
	maxText := strings.TrimSpace(text(b.value(keyCacheMaxTTL, rawMax)))
	b.fail(keyCacheMinTTL, b.value(keyCacheMinTTL, rawMin),
		fmt.Sprintf("a duration no longer than %s, the value of %s", maxText, keyCacheMaxTTL))
}

func (b *builder) cacheSize(raw any) int {
	v := b.value(keyCacheSize, raw)
	n, ok := parseInt(v)
	if !ok || n < 1 || n > math.MaxInt {
		b.fail(keyCacheSize, v, wantCacheSize)
		return 0
	}
	return int(n)
}

func (b *builder) cacheMemory(raw any) int64 {
	s, ok := b.scalarOf(keyCacheMemory, raw, wantCacheMemory)
	if !ok {
		return 0
	}
	n, ok := parseBytes(s)
	if !ok || n < minCacheMemory {
		b.fail(keyCacheMemory, s, wantCacheMemory)
		return 0
	}
	return n
}

// ttl reads a duration that clamps DNS TTLs. TTLs count whole seconds
// (RFC 2181, section 8), so any fraction is dropped: 1.5s is 1s.
func (b *builder) ttl(key string, raw any, least time.Duration, want string) (time.Duration, bool) {
	d, ok := b.duration(key, raw, least, want)
	return d.Truncate(time.Second), ok
}

func (b *builder) cachePolicy(raw any) CachePolicy {
	s, ok := b.scalarOf(keyCachePolicy, raw, wantCachePolicy)
	if !ok {
		return CacheLRU
	}
	switch p := CachePolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case CacheLRU, Cache2Q:
		return p
	}
	b.fail(keyCachePolicy, s, wantCachePolicy)
	return CacheLRU
}

// Bounds of cache.redis.timeout: a call to Redis is on a client's path,
// so it may take tens of milliseconds, never seconds.
const (
	minRedisTimeout = time.Millisecond
	maxRedisTimeout = time.Second
)

// redis reads cache.redis.*. The address is host:port (a name or an IP
// and a port) or a redis://, rediss:// or unix:// URL; the client checks
// the rest of a URL when it starts.
func (b *builder) redis(raw rawRedis) Redis {
	r := Redis{Seed: b.str(keyRedisSeed, raw.Seed)}
	if s, ok := b.scalarOf(keyRedisAddr, raw.Addr, wantRedisAddr); ok && strings.TrimSpace(s) != "" {
		s = strings.TrimSpace(s)
		if validRedisAddr(s) {
			r.Addr = s
		} else {
			b.fail(keyRedisAddr, s, wantRedisAddr)
		}
	}
	if d, ok := b.duration(keyRedisTimeout, raw.Timeout, minRedisTimeout, wantRedisTime); ok {
		if d > maxRedisTimeout {
			b.fail(keyRedisTimeout, b.value(keyRedisTimeout, raw.Timeout), wantRedisTime)
		} else {
			r.Timeout = d
		}
	}
	return r
}

func validRedisAddr(s string) bool {
	if u, err := url.Parse(s); err == nil && strings.Contains(s, "://") {
		switch u.Scheme {
		case "redis", "rediss":
			return u.Host != ""
		case "unix":
			return u.Path != ""
		}
		return false
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}
