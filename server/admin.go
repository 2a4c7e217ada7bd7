package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
)

// AdminOptions configures the admin HTTP API.
type AdminOptions struct {
	Addr     netip.AddrPort
	Token    string                              // if set, required as "Authorization: Bearer <Token>"
	Metrics  *Metrics                            // client query counters
	Cache    interface{ Stats() cache.Stats }    // nil: no cache section
	Upstream interface{ Stats() resolver.Stats } // nil: no upstream section
	Ready    func() bool                         // readiness: listening and roots primed
	Logger   *slog.Logger
}

// Admin is the admin HTTP API (DESIGN.md): /healthz, /readyz and /stats.
type Admin struct {
	opts AdminOptions
	srv  *http.Server
	ln   net.Listener
	wg   sync.WaitGroup
}

// NewAdmin returns the admin API, not yet listening; Handler serves it in tests.
func NewAdmin(opts AdminOptions) *Admin {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	a := &Admin{opts: opts}
	a.srv = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return a
}

// Handler returns the API's routes.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if a.opts.Ready != nil && !a.opts.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /stats", a.authorized(http.HandlerFunc(a.stats)))
	return mux
}

// authorized requires the bearer token, when one is configured. Liveness
// and readiness stay open so that supervisors can probe without secrets.
func (a *Admin) authorized(next http.Handler) http.Handler {
	if a.opts.Token == "" {
		return next
	}
	want := []byte("Bearer " + a.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rootwalk"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Stats is the JSON document served at /stats.
type Stats struct {
	UptimeSeconds float64       `json:"uptime_seconds"`
	Queries       QueriesJSON   `json:"queries"`
	Cache         *CacheJSON    `json:"cache,omitempty"`
	Upstream      *UpstreamJSON `json:"upstream,omitempty"`
	LatencyMS     LatencyJSON   `json:"latency_ms"`
}

// QueriesJSON counts client queries.
type QueriesJSON struct {
	Total   uint64            `json:"total"`
	ByType  map[string]uint64 `json:"by_type"`
	ByRcode map[string]uint64 `json:"by_rcode"`
}

// CacheJSON is the cache's counters.
type CacheJSON struct {
	Entries          int     `json:"entries"`
	Bytes            int64   `json:"bytes"`
	Hits             uint64  `json:"hits"`
	Misses           uint64  `json:"misses"`
	Inserts          uint64  `json:"inserts"`
	Evictions        uint64  `json:"evictions"`
	Expired          uint64  `json:"expired"`
	HitRatio         float64 `json:"hit_ratio"` // answer lookups served from the cache
	DelegationHits   uint64  `json:"delegation_hits"`
	DelegationMisses uint64  `json:"delegation_misses"`
}

// UpstreamJSON is the resolver's exchange counters.
type UpstreamJSON struct {
	Queries      uint64 `json:"queries"`
	Timeouts     uint64 `json:"timeouts"`
	TCPFallbacks uint64 `json:"tcp_fallbacks"`
	Errors       uint64 `json:"errors"`
}

// LatencyJSON is client latency percentiles, in milliseconds, as bucket
// upper bounds.
type LatencyJSON struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

func (a *Admin) stats(w http.ResponseWriter, _ *http.Request) {
	q := a.opts.Metrics.Snapshot()
	out := Stats{
		UptimeSeconds: q.Uptime.Seconds(),
		Queries:       QueriesJSON{Total: q.Total, ByType: q.ByType, ByRcode: q.ByRcode},
		LatencyMS:     LatencyJSON{P50: ms(q.P50), P90: ms(q.P90), P99: ms(q.P99)},
	}
	if a.opts.Cache != nil {
		c := a.opts.Cache.Stats()
		out.Cache = &CacheJSON{Entries: c.Entries, Bytes: c.Bytes, Hits: c.Hits, Misses: c.Misses,
			Inserts: c.Inserts, Evictions: c.Evictions, Expired: c.Expired,
			DelegationHits: c.DelegationHits, DelegationMisses: c.DelegationMisses}
		if lookups := c.Hits + c.Misses; lookups > 0 {
			out.Cache.HitRatio = float64(c.Hits) / float64(lookups)
		}
	}
	if a.opts.Upstream != nil {
		u := a.opts.Upstream.Stats()
		out.Upstream = &UpstreamJSON{Queries: u.UpstreamQueries, Timeouts: u.UpstreamTimeouts,
			TCPFallbacks: u.TCPFallbacks, Errors: u.UpstreamErrors}
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		a.opts.Logger.Debug("write /stats", "err", err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Start binds the admin address and serves until Shutdown.
func (a *Admin) Start() error {
	ln, err := net.Listen("tcp", a.opts.Addr.String())
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", a.opts.Addr, err)
	}
	a.ln = ln
	a.wg.Go(func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.opts.Logger.Error("admin API stopped", "err", err)
		}
	})
	return nil
}

// Addr returns the bound address (useful with port 0).
func (a *Admin) Addr() net.Addr { return a.ln.Addr() }

// Shutdown stops the admin API and waits for it.
func (a *Admin) Shutdown(ctx context.Context) error {
	err := a.srv.Shutdown(ctx)
	a.wg.Wait()
	if err != nil {
		return fmt.Errorf("admin shutdown: %w", err)
	}
	return nil
}
