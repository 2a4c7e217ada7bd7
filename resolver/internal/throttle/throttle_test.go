package throttle

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestPerServerRate(t *testing.T) {
	th, err := New(Options{PerServerQPS: 10, PerServerBurst: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	steps := []struct {
		at     time.Duration
		server netip.Addr
		want   bool
	}{
		{0, a, true}, {0, a, true}, {0, a, true}, // the burst
		{0, a, false},                     // spent
		{0, b, true},                      // another server has its own
		{99 * time.Millisecond, a, false}, // a token every 100 ms
		{100 * time.Millisecond, a, true},
		{100 * time.Millisecond, a, false},
		{time.Hour, a, true}, {time.Hour, a, true}, {time.Hour, a, true}, // refilled, to the burst only
		{time.Hour, a, false},
	}
	for i, s := range steps {
		release, err := th.Acquire(t.Context(), s.server, t0.Add(s.at))
		if got := err == nil; got != s.want {
			t.Errorf("step %d (%v, %s): admitted %v (%v), want %v", i, s.at, s.server, got, err, s.want)
		}
		if err != nil && !errors.Is(err, ErrRateLimited) {
			t.Errorf("step %d: %v, want ErrRateLimited", i, err)
		}
		if release != nil {
			release()
		}
	}
}

func TestOutstandingBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th, err := New(Options{MaxOutstanding: 2})
		if err != nil {
			t.Fatal(err)
		}
		a := netip.MustParseAddr("127.0.0.1")
		r1, err1 := th.Acquire(t.Context(), a, t0)
		r2, err2 := th.Acquire(t.Context(), a, t0)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		// A third waits for a slot, and gives up with its context.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := th.Acquire(ctx, a, t0); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("third query: %v, want to wait until its deadline", err)
		}
		// Released slots are free again; releasing twice frees one.
		got := make(chan error, 1)
		go func() {
			_, err := th.Acquire(t.Context(), a, t0)
			got <- err
		}()
		synctest.Wait()
		r1()
		r1()
		if err := <-got; err != nil {
			t.Errorf("after a release: %v", err)
		}
		if _, err := th.Acquire(ctx, a, t0); err == nil {
			t.Error("a double release freed two slots")
		}
		r2()
	})
}

func TestZeroLimitsNothing(t *testing.T) {
	th, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 10_000 {
		release, err := th.Acquire(t.Context(), netip.MustParseAddr("127.0.0.1"), t0)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if _, err := New(Options{PerServerQPS: -1}); err == nil {
		t.Error("negative rate accepted")
	}
}

func TestBucketsAreBounded(t *testing.T) {
	th, err := New(Options{PerServerQPS: 1000, PerServerBurst: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxServers + 100 {
		a := netip.AddrFrom4([4]byte{127, byte(i >> 16), byte(i >> 8), byte(i)})
		if _, err := th.Acquire(t.Context(), a, t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(th.servers); n > maxServers {
		t.Errorf("%d buckets kept, bound %d", n, maxServers)
	}
}
