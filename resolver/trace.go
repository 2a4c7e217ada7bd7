package resolver

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// EventKind says which step of a walk an Event describes.
type EventKind uint8

// The steps of a walk.
const (
	// EventCacheHit: the answer to Question came from the cache, or from
	// the shared cache (Target SharedCacheTarget).
	EventCacheHit EventKind = iota + 1
	// EventStart: the lookup of Question starts at Zone, whose servers
	// came from the cache, the hints, a stub zone or a forward zone (Target
	// says which: cache, hints, stub, forward).
	EventStart
	// EventQuery: Question is about to be sent to Server at Addr.
	EventQuery
	// EventReply: Server answered; Outcome classifies the reply.
	EventReply
	// EventError: the exchange with Server failed (Err says why).
	EventError
	// EventRestart: the answer was a CNAME or DNAME; the walk goes on at Target.
	EventRestart
	// EventSubResolve: Server has no known address; the walk resolves
	// Target (its name) first, one Depth deeper.
	// With Outcome "dnssec", the validator fetches Question, a DS or
	// DNSKEY RRset of the chain of trust, named in Target.
	EventSubResolve
	// EventTCPRetry: Server's UDP reply was truncated; it was asked again
	// over TCP, and the EventReply that follows is the TCP one.
	EventTCPRetry
	// EventSkip: Server (Target) of Zone is not asked; Err says why (no
	// usable address, or the budget for glueless lookups is spent).
	EventSkip
	// EventLocal: Question is in Zone, a local zone, and answered from it.
	EventLocal
	// EventDNSSEC: a verdict of the validator. For the chain of trust,
	// Zone's keys (Target: "keys: " and how they were vouched for); for
	// an answer, Question's from Zone (Target: "answer: " and what was
	// checked). Outcome is secure, insecure or bogus; Err says why bogus.
	EventDNSSEC
)

var eventNames = [...]string{
	EventCacheHit:   "cache-hit",
	EventStart:      "start",
	EventQuery:      "query",
	EventReply:      "reply",
	EventError:      "error",
	EventRestart:    "restart",
	EventSubResolve: "sub-resolve",
	EventTCPRetry:   "tcp-retry",
	EventSkip:       "skip",
	EventLocal:      "local",
	EventDNSSEC:     "dnssec",
}

// String returns a short lower-case name for the kind.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one step of a walk. Fields that do not apply to a kind are zero.
type Event struct {
	Kind     EventKind
	Depth    int // 0 for the client's question, +1 per nested sub-resolution
	Question dns.Question
	Zone     string         // the zone whose servers are being asked
	Server   string         // name of the server asked
	Addr     netip.AddrPort // where it was asked
	RTT      time.Duration
	TCP      bool     // the reply came over TCP after truncation
	Outcome  string   // for EventReply: answer, nxdomain, nodata, referral, lame, failure
	Target   string   // referral: child zone; restart: new name; sub-resolve: server name
	Reply    *dns.Msg // the reply as received; shared, must not be modified
	Err      error
}

// Tracer observes the steps of a walk. Event is called synchronously, in
// order, from the goroutine doing the resolution.
type Tracer interface {
	Event(Event)
}

// TracerFunc adapts a function to a Tracer.
type TracerFunc func(Event)

// Event implements Tracer.
func (f TracerFunc) Event(e Event) { f(e) }

type tracerKey struct{}

// WithTracer returns a context whose resolutions report every step to t,
// in the manner of net/http/httptrace.
func WithTracer(ctx context.Context, t Tracer) context.Context {
	return context.WithValue(ctx, tracerKey{}, t)
}

// ContextTracer returns the Tracer attached to ctx, or nil.
func ContextTracer(ctx context.Context) Tracer {
	t, _ := ctx.Value(tracerKey{}).(Tracer)
	return t
}

type cacheKey struct{}

// WithCache returns a context whose resolutions use c instead of the
// resolver's own cache: with a new, empty c, a resolution runs exactly as
// a freshly started resolver's would, without touching the shared cache.
// It is what a cold trace uses.
func WithCache(ctx context.Context, c Cache) context.Context {
	return context.WithValue(ctx, cacheKey{}, c)
}

// ContextCache returns the Cache attached to ctx by WithCache, if any.
func ContextCache(ctx context.Context) (Cache, bool) {
	c, ok := ctx.Value(cacheKey{}).(Cache)
	return c, ok
}

// logEvent writes e at Debug level with the project's fixed keys.
func logEvent(ctx context.Context, log *slog.Logger, e Event) {
	attrs := []slog.Attr{
		slog.String("step", e.Kind.String()),
		slog.Int("depth", e.Depth),
		slog.String("qname", e.Question.Name),
		slog.String("qtype", dns.TypeToString[e.Question.Qtype]),
	}
	if e.Zone != "" {
		attrs = append(attrs, slog.String("zone", e.Zone))
	}
	if e.Server != "" {
		attrs = append(attrs, slog.String("server", e.Server))
	}
	if e.Addr.IsValid() {
		attrs = append(attrs, slog.String("addr", e.Addr.String()))
	}
	if e.Kind == EventReply {
		attrs = append(attrs, slog.String("outcome", e.Outcome), slog.Duration("duration", e.RTT))
		if e.Reply != nil {
			attrs = append(attrs, slog.String("rcode", dns.RcodeToString[e.Reply.Rcode]))
		}
		if e.TCP {
			attrs = append(attrs, slog.Bool("tcp", true))
		}
	}
	if e.Target != "" {
		attrs = append(attrs, slog.String("target", e.Target))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	log.LogAttrs(ctx, slog.LevelDebug, "walk", attrs...)
}
