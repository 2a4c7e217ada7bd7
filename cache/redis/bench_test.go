package redis

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/redistest"
)

// The benchmarks run against a real redis-server on loopback: what they
// measure is one round trip plus the work on both sides of it.

func BenchmarkAnswerHit(b *testing.B) {
	srv := redistest.Start(b)
	tier, err := New(Options{Addr: srv.String(), Seed: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tier.Close() }() // benchmark
	now := time.Now()
	q := query("www.example.com.", dns.TypeA, true, false)
	tier.Store(q, answerMsg(b, dns.RcodeSuccess, "www.example.com. 3600 IN A 192.0.2.1"), now)
	for tier.Stats().Writes < 1 {
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := tier.Answer(b.Context(), q, now); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkAnswerMiss(b *testing.B) {
	srv := redistest.Start(b)
	tier, err := New(Options{Addr: srv.String(), Seed: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tier.Close() }() // benchmark
	q := query("nothing.example.com.", dns.TypeA, false, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := tier.Answer(b.Context(), q, time.Now()); ok {
			b.Fatal("hit")
		}
	}
}

// BenchmarkStore stores b.N answers and waits until all are written: the
// cost of sharing an answer, the background writes included.
func BenchmarkStore(b *testing.B) {
	srv := redistest.Start(b)
	tier, err := New(Options{Addr: srv.String(), Seed: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tier.Close() }() // benchmark
	m := answerMsg(b, dns.RcodeSuccess, "x.example.com. 3600 IN A 192.0.2.1")
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tier.Store(query(fmt.Sprintf("n%d.example.com.", i), dns.TypeA, false, false), m, now)
		i++
		for i-int(tier.Stats().Writes+tier.Stats().Dropped) > writeQueue/2 {
			time.Sleep(100 * time.Microsecond) // let the writer catch up rather than drop
		}
	}
	for int(tier.Stats().Writes+tier.Stats().Dropped) < i {
		time.Sleep(100 * time.Microsecond)
	}
	if s := tier.Stats(); s.Dropped > 0 {
		b.Logf("%d of %d writes dropped", s.Dropped, i)
	}
}
