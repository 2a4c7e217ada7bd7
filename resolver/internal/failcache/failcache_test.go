package failcache

import (
	"errors"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	c := New()
	q := "www.example./A/IN"
	boom := errors.New("boom")
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		c.Add(q, boom, now)
		left, err := c.Check(q, now)
		if !errors.Is(err, boom) || left != want {
			t.Errorf("failure %d: %v left, %v; want %v", i+1, left, err, want)
		}
		now = now.Add(want) // expired: the next failure comes right after
		if _, err := c.Check(q, now); err != nil {
			t.Errorf("failure %d still remembered after %v", i+1, want)
		}
	}
	c.Forget(q)
	c.Add(q, boom, now)
	if left, _ := c.Check(q, now); left != time.Second {
		t.Errorf("after Forget: %v, want the backoff to start again at 1s", left)
	}
	for range 20 {
		c.Add(q, boom, now)
	}
	if left, _ := c.Check(q, now); left != MaxTTL {
		t.Errorf("after many failures: %v, want the cap %v", left, MaxTTL)
	}
}
