package main

import (
	"context"
	"log/slog"
	"net/url"
	"sync/atomic"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/cache/redis"
	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/server"
)

// sharedCache starts the cache tier the fleet shares in Redis, or returns
// nil without cache.redis.addr. A flush another instance sends empties
// this instance's cache and the replies its fast path keeps (handler,
// once it is set). A Redis that does not answer now is no reason not to
// start: the tier degrades to this instance's cache until it does.
func sharedCache(ctx context.Context, cfg *config.Config, c *cache.Cache, handler *atomic.Pointer[server.Handler], log *slog.Logger) (*redis.Tier, error) {
	if cfg.Cache.Redis.Addr == "" {
		return nil, nil
	}
	var stale = cfg.Cache.StaleMaxAge
	if !cfg.Cache.ServeStale {
		stale = 0
	}
	tier, err := redis.New(redis.Options{
		Addr:        cfg.Cache.Redis.Addr,
		Seed:        cfg.Cache.Redis.Seed,
		Timeout:     cfg.Cache.Redis.Timeout,
		StaleWindow: stale,
		OnFlush: func(name string, subtree bool) {
			server.FlushScope(c, name, subtree)
			if h := handler.Load(); h != nil {
				h.FlushAnswers()
			}
		},
		Logger: log.With("component", "redis"),
	})
	if err != nil {
		return nil, usageError{err}
	}
	if cfg.Cache.Redis.Seed == "" {
		log.Warn("cache.redis.seed is empty: anyone who can write to this Redis can plant answers for this fleet")
	}
	if err := tier.Ping(ctx); err != nil {
		log.Warn("shared cache not reachable yet; answering from this instance's cache until it is", "err", err)
	} else {
		log.Info("shared cache ready", "addr", redactedAddr(cfg.Cache.Redis.Addr))
	}
	return tier, nil
}

// redactedAddr is cache.redis.addr fit for a log: a URL's password is
// replaced by xxxxx.
func redactedAddr(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.User != nil {
		return u.Redacted()
	}
	return addr
}
