// Package heapfloor lets the heap grow to a floor before the garbage
// collector runs.
//
// With the default GOGC of 100, Go collects whenever the heap has doubled
// since the last collection. A resolver whose cache is still small (just
// started, or asked mostly new names) then collects many times a second,
// scanning the whole cache each time: a fifth of rootwalk's CPU on cold
// names. The operator has already given the cache a memory budget, so the
// heap may as well use it: after each collection, GOGC is set so that the
// next one comes when the heap reaches the floor, or twice the live heap
// if that is more, as without a floor.
package heapfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// defaultPercent is GOGC's default, what the floor never goes below.
const defaultPercent = 100

// minHeap is the runtime's minimum heap goal at GOGC=100 (heapMinimum in
// runtime/mgcpacer.go): the heap GOGC is relative to before the first
// collection.
const minHeap = 4 << 20

// maxPercent bounds GOGC when the live heap is tiny against the floor.
const maxPercent = 1_000_000

var (
	floor   atomic.Uint64
	started sync.Once
	percent atomic.Int64 // the GOGC last set: adjust sets it only when it changes
)

// Set makes floor bytes the heap size below which the collector does not
// run (beyond its two-minute forced collections). Zero restores GOGC's
// default. It does nothing when the GOGC environment variable is set:
// the operator's choice wins.
func Set(bytes uint64) {
	if os.Getenv("GOGC") != "" {
		return
	}
	floor.Store(bytes)
	adjust()
	started.Do(arm)
}

// Percent returns the GOGC in force from the last adjustment, or 0 if
// the floor was never set.
func Percent() int {
	return int(percent.Load())
}

// arm registers adjust to run once the collector has freed a fresh
// object, that is after each collection, and arm again.
func arm() {
	// An object with a pointer in it: never one of the tiny
	// allocator's, whose cleanups may not run.
	runtime.AddCleanup(new([2]*byte), func(struct{}) {
		adjust()
		arm()
	}, struct{}{})
}

var (
	adjusting  sync.Mutex
	liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
)

// adjust sets GOGC for the live heap the last collection found.
func adjust() {
	adjusting.Lock()
	defer adjusting.Unlock()
	live := uint64(0)
	metrics.Read(liveSample)
	if liveSample[0].Value.Kind() == metrics.KindUint64 {
		live = liveSample[0].Value.Uint64()
	}
	p := PercentFor(live, floor.Load())
	if int64(p) != percent.Swap(int64(p)) {
		debug.SetGCPercent(p)
	}
}

// PercentFor returns the GOGC that makes the next collection come when
// the heap reaches floor bytes, with live bytes live, or twice live if
// that is more.
func PercentFor(live, floor uint64) int {
	// Before the first collection, and for a heap that small, the runtime
	// aims at its minimum heap, 4 MiB, times GOGC/100.
	live = max(live, minHeap)
	if floor <= 2*live {
		return defaultPercent
	}
	p := (floor - live) * 100 / live
	return int(min(p, maxPercent))
}
