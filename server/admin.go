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

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/resolver/trace"
	"github.com/rootwalk/rootwalk/server/internal/console"
)

// Bounds of a cold trace's private cache: one resolution never needs more.
const (
	coldTraceEntries = 10_000
	coldTraceBytes   = 16 << 20
)

// AdminResolver is what the admin API needs of the resolver: its counters
// and, for /trace, resolutions.
type AdminResolver interface {
	ResolverStats
	Resolve(ctx context.Context, q dns.Question) (*resolver.Result, error)
}

// Clock tells the time; tests use one that moves only when told to.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// AdminOptions configures the admin HTTP API.
type AdminOptions struct {
	Addr  netip.AddrPort
	Token string // if set, required as "Authorization: Bearer <Token>"
	// AllowedHosts are the names, besides IP addresses and localhost,
	// by which clients may reach the API (the Host header): a guard
	// against DNS rebinding (admin.allowed_hosts).
	AllowedHosts []string
	Metrics      *Metrics   // client query counters
	Cache        AdminCache // nil: no cache numbers; /cache and /cache/flush answer 404
	// OnFlush runs after every flush of the cache, whatever its scope:
	// the handler's FlushAnswers, so the fast path forgets the replies
	// it kept. Nil: nothing runs.
	OnFlush func()
	// Shared is the cache a fleet shares in Redis: its numbers go to
	// /stats and /metrics, and every flush goes to the fleet too. Nil:
	// none.
	Shared   SharedCache
	Resolver AdminResolver   // nil: no resolver numbers, no /trace
	QueryLog *QueryLog       // nil: /querylog is not found
	Listener ListenerStatser // nil: no transport numbers
	Ready    func() bool     // readiness: listening and roots primed
	Clock    Clock           // the time at which /cache shows remaining TTLs; nil: the system clock
	Logger   *slog.Logger
}

// Admin is the admin HTTP API of DESIGN.md.
type Admin struct {
	opts    AdminOptions
	metrics http.Handler
	srv     *http.Server
	ln      net.Listener
	wg      sync.WaitGroup
}

// NewAdmin returns the admin API, not yet listening; Handler serves it in tests.
func NewAdmin(opts AdminOptions) *Admin {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	a := &Admin{opts: opts}
	var rs ResolverStats
	if opts.Resolver != nil {
		rs = opts.Resolver
	}
	var cs CacheStats
	if opts.Cache != nil {
		cs = opts.Cache
	}
	reg := newRegistry(&collector{metrics: opts.Metrics, cache: cs, resolver: rs, listener: opts.Listener, shared: opts.Shared})
	a.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn)})
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
	mux.Handle("GET /metrics", a.authorized(a.metrics))
	if a.opts.Resolver != nil {
		mux.Handle("GET /trace", a.authorized(http.HandlerFunc(a.trace)))
	}
	if a.opts.QueryLog != nil {
		mux.Handle("GET /querylog", a.authorized(http.HandlerFunc(a.queryLog)))
		mux.Handle("POST /querylog", a.authorized(http.HandlerFunc(a.queryLog)))
	}
	// Routed even without a cache, to say so in the reply; the mux
	// answers other methods with 405.
	mux.Handle("GET /cache", a.authorized(http.HandlerFunc(a.listCache)))
	mux.Handle("POST /cache/flush", a.authorized(http.HandlerFunc(a.flushCache)))
	mux.Handle("GET /servers", a.authorized(http.HandlerFunc(a.servers)))
	mux.Handle("GET /{$}", console.Page())
	mux.Handle("GET /console/", console.Assets())
	return a.guard(mux)
}

// authorized requires the bearer token, when one is configured. Liveness
// and readiness stay open so that supervisors can probe without secrets.
func (a *Admin) authorized(next http.Handler) http.Handler {
	if a.opts.Token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tokenMatches(r.Header.Get("Authorization"), a.opts.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rootwalk"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenMatches reports whether an Authorization header carries token,
// comparing in constant time.
func tokenMatches(header, token string) bool {
	return subtle.ConstantTimeCompare([]byte(header), []byte("Bearer "+token)) == 1
}

// trace serves GET /trace?name=N&type=T[&cold=1][&messages=1]: one
// resolution by this server, step by step, as JSON; with messages, each
// query and reply whole, in dig's text form. A cold trace runs with an empty cache of
// its own, as a freshly started resolver would, and leaves the server's
// cache alone.
func (a *Admin) trace(w http.ResponseWriter, r *http.Request) {
	q, err := trace.Question(r.URL.Query().Get("name"), r.URL.Query().Get("type"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cold, err := boolParam(r, "cold")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	messages, err := boolParam(r, "messages")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	where := "rootwalk at " + a.opts.Addr.String() + ", with its cache"
	if cold {
		c, err := cache.New(cache.Options{MaxEntries: coldTraceEntries, MaxBytes: coldTraceBytes})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ctx = resolver.WithCache(ctx, c)
		where = "rootwalk at " + a.opts.Addr.String() + ", cold (an empty cache of its own)"
	}
	writeJSON(w, a.opts.Logger, trace.RunWith(ctx, a.opts.Resolver, q, trace.Options{Where: where, Messages: messages}))
}

// boolParam reads an optional 1/0 (or true/false) query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	return boolValue(r.URL.Query(), name)
}

// queryLog serves GET /querylog (the state) and POST /querylog?enabled=1|0.
func (a *Admin) queryLog(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if !r.URL.Query().Has("enabled") {
			http.Error(w, "enabled: missing; want 1 or 0", http.StatusBadRequest)
			return
		}
		on, err := boolParam(r, "enabled")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.opts.QueryLog.SetEnabled(on)
		a.opts.Logger.Info("query log switched", "enabled", on)
	}
	writeJSON(w, a.opts.Logger, map[string]bool{"enabled": a.opts.QueryLog.Enabled()})
}

func writeJSON(w http.ResponseWriter, log *slog.Logger, v any) {
	writeJSONStatus(w, log, http.StatusOK, v)
}

func writeJSONStatus(w http.ResponseWriter, log *slog.Logger, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		log.Debug("write JSON reply", "err", err)
	}
}

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
