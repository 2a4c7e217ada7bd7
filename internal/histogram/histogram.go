// Package histogram counts durations into fixed buckets without locks, for
// the latency numbers the admin API reports (/stats percentiles and the
// Prometheus histograms). It is what resolver and server share instead of
// each importing Prometheus on their hot paths.
package histogram

import (
	"sync/atomic"
	"time"
)

// DefaultBounds are the upper bounds of the buckets, from 50 µs to 10 s,
// about three per decade; the last bucket has no upper bound.
var DefaultBounds = []time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Histogram counts observations into buckets. The zero value is not
// usable; use New. It is safe for concurrent use.
type Histogram struct {
	bounds []time.Duration
	counts []atomic.Uint64 // len(bounds)+1
	sum    atomic.Int64    // nanoseconds
}

// New returns an empty histogram with the given ascending bucket bounds.
func New(bounds []time.Duration) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe counts one duration.
func (h *Histogram) Observe(d time.Duration) {
	i := len(h.bounds)
	for j, b := range h.bounds { // few buckets: a scan beats a binary search
		if d <= b {
			i = j
			break
		}
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Snapshot is a histogram's state at one moment.
type Snapshot struct {
	Bounds []time.Duration // upper bounds; Counts has one more bucket, unbounded
	Counts []uint64        // per bucket, not cumulative
	Count  uint64
	Sum    time.Duration
}

// Snapshot returns the counts so far. Buckets are read one by one, so a
// snapshot taken while observations arrive may be off by those in flight.
func (h *Histogram) Snapshot() Snapshot {
	s := Snapshot{Bounds: h.bounds, Counts: make([]uint64, len(h.counts)), Sum: time.Duration(h.sum.Load())}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
		s.Count += s.Counts[i]
	}
	return s
}

// Quantile estimates the q-quantile (0 < q < 1) by linear interpolation
// inside the bucket that holds it, as Prometheus's histogram_quantile does.
// Past the last bound it returns the last bound. With no observations it
// returns 0.
func (s Snapshot) Quantile(q float64) time.Duration {
	if s.Count == 0 {
		return 0
	}
	rank := q * float64(s.Count)
	var seen float64
	for i, n := range s.Counts {
		if n == 0 {
			continue
		}
		if seen+float64(n) >= rank {
			if i == len(s.Bounds) {
				return s.Bounds[len(s.Bounds)-1]
			}
			lower := time.Duration(0)
			if i > 0 {
				lower = s.Bounds[i-1]
			}
			frac := (rank - seen) / float64(n)
			return lower + time.Duration(frac*float64(s.Bounds[i]-lower))
		}
		seen += float64(n)
	}
	return s.Bounds[len(s.Bounds)-1]
}
