package histogram

import (
	"sync"
	"testing"
	"time"
)

func TestObserveAndSnapshot(t *testing.T) {
	h := New([]time.Duration{time.Millisecond, 10 * time.Millisecond})
	for _, d := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond, time.Second} {
		h.Observe(d)
	}
	s := h.Snapshot()
	want := []uint64{2, 2, 1}
	for i := range want {
		if s.Counts[i] != want[i] {
			t.Errorf("bucket %d: %d, want %d", i, s.Counts[i], want[i])
		}
	}
	if s.Count != 5 || s.Sum != 1013*time.Millisecond {
		t.Errorf("count %d sum %v, want 5 and 1.013s", s.Count, s.Sum)
	}
}

func TestQuantile(t *testing.T) {
	h := New([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond})
	if got := h.Snapshot().Quantile(0.5); got != 0 {
		t.Errorf("empty: %v", got)
	}
	for range 50 {
		h.Observe(5 * time.Millisecond)
	}
	for range 50 {
		h.Observe(15 * time.Millisecond)
	}
	s := h.Snapshot()
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.25, 5 * time.Millisecond},  // halfway into 0-10ms
		{0.5, 10 * time.Millisecond},  // the end of the first bucket
		{0.75, 15 * time.Millisecond}, // halfway into 10-20ms
		{0.99, 19800 * time.Microsecond},
	}
	for _, tc := range tests {
		if got := s.Quantile(tc.q); got != tc.want {
			t.Errorf("q%v = %v, want %v", tc.q, got, tc.want)
		}
	}
	h.Observe(time.Minute)
	if got := h.Snapshot().Quantile(0.999); got != 20*time.Millisecond {
		t.Errorf("beyond the last bound: %v, want the last bound", got)
	}
}

func TestConcurrentObserve(t *testing.T) {
	h := New(DefaultBounds)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 1000 {
				h.Observe(time.Duration(i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != 4000 {
		t.Errorf("count %d, want 4000", s.Count)
	}
}

func BenchmarkObserve(b *testing.B) {
	h := New(DefaultBounds)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(3 * time.Millisecond)
		}
	})
}
