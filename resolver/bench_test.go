package resolver

import (
	"context"
	"testing"

	"github.com/miekg/dns"
)

// The trace hooks cost one branch per step when no tracer is attached and
// debug logging is off. These benchmarks show it: a cold walk (three
// exchanges with the fake network, nothing cached) and a cache hit, each
// with no tracer and with a tracer that drops every event.

func benchmarkResolve(b *testing.B, cached bool, tracer Tracer) {
	tree := testTree(b)
	net := newFakeNet(tree)
	var c Cache
	if cached {
		c = newMapCache()
	}
	// The fake network answers at once, far past the default cap on
	// queries a second to one server: no cap here.
	r := newResolverWith(b, net, c, func(o *Options) { o.MaxServerQPS = -1 })
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	ctx := context.Background()
	if tracer != nil {
		ctx = WithTracer(ctx, tracer)
	}
	if _, err := r.Resolve(ctx, q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

var discard = TracerFunc(func(Event) {})

func BenchmarkResolveColdNoTracer(b *testing.B)   { benchmarkResolve(b, false, nil) }
func BenchmarkResolveColdWithTracer(b *testing.B) { benchmarkResolve(b, false, discard) }
func BenchmarkResolveCachedNoTracer(b *testing.B) { benchmarkResolve(b, true, nil) }
func BenchmarkResolveCachedTracer(b *testing.B)   { benchmarkResolve(b, true, discard) }

// BenchmarkStepWithoutTracer is what one step of a walk pays for the trace
// hooks when nothing listens: the check that guards building an Event.
func BenchmarkStepWithoutTracer(b *testing.B) {
	r := newTestResolver(b, newFakeNet(nil), nil)
	w := r.newWalk(context.Background())
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	emitted := 0
	for b.Loop() {
		if w.tracing() {
			w.emit(context.Background(), Event{Kind: EventCacheHit, Question: q})
			emitted++
		}
	}
	if emitted != 0 {
		b.Fatal("emitted with no tracer")
	}
}
