package resolver

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"golang.org/x/sync/singleflight"

	"github.com/rootwalk/rootwalk/resolver/internal/anchors"
	"github.com/rootwalk/rootwalk/resolver/internal/cookies"
	"github.com/rootwalk/rootwalk/resolver/internal/dnssec"
	"github.com/rootwalk/rootwalk/resolver/internal/failcache"
	"github.com/rootwalk/rootwalk/resolver/internal/selection"
	"github.com/rootwalk/rootwalk/resolver/internal/tcpconns"
	"github.com/rootwalk/rootwalk/resolver/internal/throttle"

	"github.com/rootwalk/rootwalk/internal/histogram"
	"github.com/rootwalk/rootwalk/internal/workers"
)

// Resolver resolves questions by iteration. It is safe for concurrent use.
type Resolver struct {
	hints   Hints
	port    uint16
	ipv6    bool
	qmin    bool
	allow   []netip.Prefix
	deny    []netip.Prefix
	timeout time.Duration
	// prefetch, serveStale and staleAfter: see Options.
	prefetch   bool
	serveStale bool
	staleAfter time.Duration
	exch       Exchanger
	cache      optionalCache
	shared     SharedCache                // Options.Shared; nil: none
	local      atomic.Pointer[localZones] // Options.Local; SetLocal replaces it
	forward    map[string]*delegation
	stub       map[string]*delegation
	// tlsServers are the forward and stub servers asked over TLS, with
	// the name their certificates must carry; tlsRoots verify them.
	tlsServers map[netip.AddrPort]string
	tlsRoots   *x509.CertPool
	clock      Clock
	log        *slog.Logger

	randMu sync.Mutex
	rand   *rand.Rand
	infra  *selection.Table
	// throttle bounds what is sent upstream (MaxServerQPS, MaxOutstanding).
	throttle *throttle.Throttle
	// cookies are the DNS cookies of the servers asked (RFC 7873).
	cookies *cookies.Jar
	tcp     *tcpconns.Pool // the TCP connections NetExchanger keeps; nil with another Exchanger

	flights    singleflight.Group // identical client questions in flight
	askFlights askFlights         // identical upstream queries in flight
	failures   *failcache.Cache

	// Shared work runs on goroutines of the resolver's own (from workers,
	// which keep the stacks the walk grows), stopped and waited for by
	// Close.
	workers  *workers.Pool
	base     context.Context
	stopAll  context.CancelFunc
	closeMu  sync.RWMutex // spawns share it; Close takes it alone
	closed   bool
	inflight sync.WaitGroup

	// anchors are the DNSSEC trust anchors, nil without validation;
	// keys the zone keys validated from them (validate.go).
	anchors *anchors.Set
	keys    keyCache
	sigs    *dnssec.SigCache // verified signatures, shared by every walk
	nsecs   nsecCache        // validated NSEC records, for aggressive NXDOMAIN (RFC 8198)
	root    *anchors.Tracker // the root's anchors under RFC 5011, with AnchorStateFile
	ntas    []string         // negative trust anchors, canonical
	valTime time.Time        // Options.ValidationTime

	primed atomic.Bool
	stats  struct {
		resolutions, failures          atomic.Uint64
		inFlight                       atomic.Int64
		queries, timeouts, tcp, errors atomic.Uint64
		rateLimited                    atomic.Uint64
		prefetches, prefetchFailures   atomic.Uint64
		staleAnswers                   atomic.Uint64
		aggressive                     atomic.Uint64
		rtt                            *histogram.Histogram
	}
}

// idleWorkers is how many of the resolver's goroutines wait for work, at
// most.
const idleWorkers = 512

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// New returns a Resolver, or an error if opts are incomplete.
func New(opts Options) (*Resolver, error) {
	if len(opts.Hints) == 0 {
		return nil, errors.New("new resolver: no root hints")
	}
	if opts.UpstreamPort == 0 {
		return nil, errors.New("new resolver: no upstream port")
	}
	r := &Resolver{
		workers: workers.New(idleWorkers),
		hints:   opts.Hints,
		port:    opts.UpstreamPort,
		ipv6:    opts.IPv6,
		qmin:    opts.QNameMinimisation,
		allow:   opts.AllowUpstream,
		deny:    opts.DenyUpstream,
		timeout: opts.Timeout,

		prefetch:   opts.Prefetch,
		serveStale: opts.ServeStale,
		staleAfter: opts.StaleAnswerAfter,
		exch:       opts.Exchanger,
		cache:      optionalCache{opts.Cache},
		shared:     opts.Shared,
		clock:      opts.Clock,
		log:        opts.Logger,
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.staleAfter <= 0 {
		r.staleAfter = DefaultStaleAnswerAfter
	}
	r.SetLocal(opts.Local)
	if len(opts.TrustAnchors) > 0 {
		r.anchors = anchors.NewSet()
		for _, rr := range opts.TrustAnchors {
			if err := r.anchors.Add(rr); err != nil {
				return nil, fmt.Errorf("new resolver: trust anchor %v: %w", rr, err)
			}
		}
		r.keys.entries = make(map[string]keyEntry)
		r.sigs = dnssec.NewSigCache(maxSigCache)
		if opts.AnchorStateFile != "" {
			if ds, keys := r.anchors.For("."); len(ds)+len(keys) == 0 {
				return nil, errors.New("new resolver: an anchor state file needs trust anchors for the root")
			}
			root := anchors.NewSet()
			ds, keys := r.anchors.For(".")
			for _, d := range ds {
				_ = root.Add(d) // checked by the first Add above
			}
			for _, k := range keys {
				_ = root.Add(k)
			}
			now := time.Now
			if opts.Clock != nil {
				now = opts.Clock.Now
			}
			tracker, err := anchors.NewTracker(".", root, opts.AnchorStateFile, now)
			if err != nil {
				return nil, fmt.Errorf("new resolver: %w", err)
			}
			r.root = tracker
		}
		for _, nta := range opts.NegativeTrustAnchors {
			if _, ok := dns.IsDomainName(nta); !ok {
				return nil, fmt.Errorf("new resolver: negative trust anchor %q is not a domain name", nta)
			}
			r.ntas = append(r.ntas, canonical(nta))
		}
		r.valTime = opts.ValidationTime
	}
	var err error
	if r.forward, err = configuredZones(opts.Forward, "forward"); err != nil {
		return nil, fmt.Errorf("new resolver: %w", err)
	}
	if r.stub, err = configuredZones(opts.Stub, "stub"); err != nil {
		return nil, fmt.Errorf("new resolver: %w", err)
	}
	r.tlsRoots = opts.TLSRoots
	for _, z := range append(slices.Clone(opts.Forward), opts.Stub...) {
		for s, name := range z.TLS {
			if r.tlsServers == nil {
				r.tlsServers = make(map[netip.AddrPort]string)
			}
			r.tlsServers[s] = name
		}
	}
	if r.exch == nil {
		r.tcp = tcpconns.New(tcpconns.Options{})
		r.exch = NetExchanger{tcp: r.tcp}
	}
	if r.clock == nil {
		r.clock = systemClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	src := opts.Rand
	if src == nil {
		src = rand.NewChaCha8(randomSeed())
	}
	r.rand = rand.New(src)
	r.stats.rtt = histogram.New(histogram.DefaultBounds)
	r.infra = selection.New()
	if r.throttle, err = throttle.New(throttleOptions(opts)); err != nil {
		return nil, fmt.Errorf("new resolver: %w", err)
	}
	secret := opts.CookieSecret
	if len(secret) == 0 {
		s := randomSeed()
		secret = s[:]
	}
	r.cookies = cookies.New(secret)
	r.failures = failcache.New()
	r.base, r.stopAll = context.WithCancel(context.Background())
	return r, nil
}

// ErrClosed is the error of a resolution asked of a closed Resolver.
var ErrClosed = errors.New("resolver closed")

// ErrInternal is a resolution that failed on a bug (a recovered panic).
var ErrInternal = errors.New("internal error")

// Close stops the resolutions and exchanges shared between callers and
// waits for them. Resolve fails with ErrClosed afterwards.
func (r *Resolver) Close() {
	r.closeMu.Lock()
	r.closed = true
	r.closeMu.Unlock()
	r.stopAll()
	r.inflight.Wait()
	r.workers.Close()
	r.tcp.Close()
}

// spawn runs f on a goroutine that Close stops (through the context it
// gets) and waits for; false if the resolver is closed. A panic in f is
// logged and turned into a failed result for the callers waiting on done,
// instead of taking the process down with it. done may be nil when
// nobody waits.
func (r *Resolver) spawn(done chan<- singleflight.Result, f func(ctx context.Context)) bool {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return false
	}
	r.inflight.Add(1)
	r.workers.Go(func() {
		defer r.inflight.Done()
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("panic in a shared resolution", "err", fmt.Sprint(p), "stack", string(debug.Stack()))
				if done != nil {
					done <- singleflight.Result{Err: fmt.Errorf("%w: %v", ErrInternal, p)}
				}
			}
		}()
		f(r.base)
	})
	return true
}

func randomSeed() [32]byte {
	var seed [32]byte
	for i := 0; i < len(seed); i += 8 {
		v := rand.Uint64() // the runtime's generator, randomly seeded at start
		for j := range 8 {
			seed[i+j] = byte(v >> (8 * j))
		}
	}
	return seed
}

// Resolve answers q as ResolveQuery does, for a query without DNSSEC bits.
func (r *Resolver) Resolve(ctx context.Context, q dns.Question) (*Result, error) {
	return r.ResolveQuery(ctx, Query{Question: q})
}

// ResolveQuery answers q, from the cache where it can and by walking the
// tree where it must. An error means no answer could be found; it wraps
// one of the sentinels of errors.go or a context error.
//
// Identical questions in flight share one walk, run on its own deadline
// (and stopped by Close) so that the client who started it cannot cancel
// it for the others; each caller waits on its own ctx. A failure is
// remembered for a moment (RFC 9520), and answered as ErrCachedFailure
// until then. With ServeStale, an expired answer is given instead of a
// failure, or when the walk takes longer than StaleAnswerAfter (see
// stale.go).
//
// The context may carry a Tracer (WithTracer), which sees every step, and
// may bring a cache of its own (WithCache), as a cold trace does; such a
// resolution walks by itself.
func (r *Resolver) ResolveQuery(ctx context.Context, q Query) (*Result, error) {
	if !shared(ctx) {
		return r.resolveNow(ctx, q)
	}
	key := flightName(q) // the shared walk's, and the failure's: DO and CD apart, since a bogus answer is no failure with CD
	if left, err := r.failures.Check(key, r.clock.Now()); err != nil {
		if res, ok := r.staleResult(q); ok {
			return res, nil
		}
		r.stats.resolutions.Add(1)
		r.stats.failures.Add(1)
		return nil, fmt.Errorf("resolve %s %s: %w (%v more): %w", q.Name, dns.TypeToString[q.Qtype],
			ErrCachedFailure, left.Round(time.Millisecond), err)
	}
	ch := make(chan singleflight.Result, 1)
	started := r.spawn(ch, func(base context.Context) {
		v, err, shared := r.flights.Do(key, func() (any, error) {
			res, err := r.resolveNow(base, q)
			if err != nil && base.Err() == nil {
				r.failures.Add(key, err, r.clock.Now())
			} else if err == nil {
				r.failures.Forget(key)
			}
			return res, err
		})
		ch <- singleflight.Result{Val: v, Err: err, Shared: shared}
	})
	if !started {
		return nil, fmt.Errorf("resolve %s %s: %w", q.Name, dns.TypeToString[q.Qtype], ErrClosed)
	}
	var staleTimer <-chan time.Time
	if r.serveStale {
		t := time.NewTimer(r.staleAfter)
		defer t.Stop()
		staleTimer = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("resolve %s %s: %w", q.Name, dns.TypeToString[q.Qtype], ctx.Err())
		case <-staleTimer:
			// RFC 8767 section 5: the client-response timer ran out; the
			// walk goes on and refreshes the cache for the next client.
			staleTimer = nil
			if res, ok := r.staleResult(q); ok {
				return res, nil
			}
		case out := <-ch:
			if out.Err != nil {
				if res, ok := r.staleResult(q); ok {
					// RFC 8767 section 5: the failure recheck timer.
					r.failures.Hold(key, out.Err, r.clock.Now().Add(staleRecheck))
					return res, nil
				}
				return nil, out.Err
			}
			res := out.Val.(*Result)
			if out.Shared {
				// Every caller gets a message of its own.
				return &Result{Reply: res.Reply.Copy(), Upstream: res.Upstream, Shared: true}, nil
			}
			return res, nil
		}
	}
}

// resolveNow walks for q, within the resolver's deadline.
func (r *Resolver) resolveNow(ctx context.Context, q Query) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	r.stats.resolutions.Add(1)
	r.stats.inFlight.Add(1)
	defer r.stats.inFlight.Add(-1)
	w := r.newWalk(ctx)
	w.do, w.cd = q.DO, q.CD
	w.client = &q.Question
	m, err := w.resolveGuarded(ctx, q.Question)
	if err != nil {
		r.stats.failures.Add(1)
		return nil, fmt.Errorf("resolve %s %s: %w", q.Name, dns.TypeToString[q.Qtype], err)
	}
	w.share(q, m)
	return &Result{Reply: m, Upstream: w.sent}, nil
}

// Prime asks the hinted root servers for the root's NS RRset (RFC 8109)
// and caches the answer, with its addresses, as the root delegation.
func (r *Resolver) Prime(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	w := r.newWalk(ctx)
	if err := w.prime(ctx); err != nil {
		return fmt.Errorf("prime root: %w", err)
	}
	r.primed.Store(true)
	return nil
}

// Primed reports whether Prime has succeeded at least once.
func (r *Resolver) Primed() bool { return r.primed.Load() }

// Stats returns a snapshot of the counters.
func (r *Resolver) Stats() Stats {
	return Stats{
		Resolutions:        r.stats.resolutions.Load(),
		Failures:           r.stats.failures.Load(),
		InFlight:           r.stats.inFlight.Load(),
		UpstreamRTT:        r.stats.rtt.Snapshot(),
		UpstreamQueries:    r.stats.queries.Load(),
		UpstreamTimeouts:   r.stats.timeouts.Load(),
		TCPFallbacks:       r.stats.tcp.Load(),
		UpstreamErrors:     r.stats.errors.Load(),
		RateLimited:        r.stats.rateLimited.Load(),
		Prefetches:         r.stats.prefetches.Load(),
		PrefetchFailures:   r.stats.prefetchFailures.Load(),
		StaleAnswers:       r.stats.staleAnswers.Load(),
		AggressiveNXDOMAIN: r.stats.aggressive.Load(),
	}
}

// newID returns a random query ID (RFC 5452 section 4.3).
func (r *Resolver) newID() uint16 {
	r.randMu.Lock()
	defer r.randMu.Unlock()
	return uint16(r.rand.Uint32())
}

// portOf is the port ns is asked on.
func (r *Resolver) portOf(ns NameServer) uint16 {
	if ns.Port != 0 {
		return ns.Port
	}
	return r.port
}

// randIntN returns a random int in [0, n).
func (r *Resolver) randIntN(n int) int {
	r.randMu.Lock()
	defer r.randMu.Unlock()
	return r.rand.IntN(n)
}

// shuffle puts s in a random order.
func shuffle[T any](r *Resolver, s []T) {
	r.randMu.Lock()
	defer r.randMu.Unlock()
	r.rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// randomCase returns name with each letter in random case (0x20).
func (r *Resolver) randomCase(name string) string {
	b := []byte(name)
	r.randMu.Lock()
	defer r.randMu.Unlock()
	var bits uint64
	for i, c := range b {
		if i%64 == 0 {
			bits = r.rand.Uint64()
		}
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			if bits&1 == 1 {
				c ^= 0x20
			}
			b[i] = c
		}
		bits >>= 1
	}
	return string(b)
}

// usable filters addrs down to those the resolver may send to.
func (r *Resolver) usable(addrs []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is6() && !r.ipv6 {
			continue
		}
		if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
			continue
		}
		if len(r.allow) > 0 && !containsAddr(r.allow, a) || containsAddr(r.deny, a) {
			continue
		}
		out = append(out, a)
	}
	return out
}

func containsAddr(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ServerState is what the resolver has learned of one upstream server
// address: its smoothed round-trip time (RFC 6298) and how it fails.
type ServerState struct {
	Addr      netip.Addr
	SRTT      time.Duration // 0 until it has answered
	RTTVar    time.Duration
	Timeouts  int  // in a row
	Down      bool // set aside after timeouts in a row
	LameZones int  // zones it is lame for
	Idle      time.Duration
}

// Servers returns the upstream servers the resolver knows, most recently
// asked first, at most limit of them.
func (r *Resolver) Servers(limit int) []ServerState {
	states := r.infra.States(r.clock.Now(), limit)
	out := make([]ServerState, len(states))
	for i, s := range states {
		out[i] = ServerState{Addr: s.Addr, SRTT: s.SRTT, RTTVar: s.RTTVar, Timeouts: s.Timeouts, Down: s.Down, LameZones: s.LameZones, Idle: s.Idle}
	}
	return out
}
