package anchors

import (
	"testing"
	"time"
)

// TestIntervals checks RFC 5011 section 2.3's arithmetic:
// queryInterval = max(1h, min(15d, origTTL/2, expiry/2)) and
// retryTime = max(1h, min(1d, origTTL/10, expiry/10)).
func TestIntervals(t *testing.T) {
	for _, c := range []struct {
		name            string
		origTTL, expiry time.Duration
		refresh, retry  time.Duration
	}{
		{"root today: 2-day TTL, RRSIGs for 14 days", 2 * day, 14 * day, day, 2*day/10 + 0},
		{"expiry binds", 10 * day, 4 * day, 2 * day, 4 * day / 10},
		{"long TTL and RRSIGs: the 15 and 1 day caps", 60 * day, 90 * day, 15 * day, day},
		{"short TTL: the 1 hour floors", time.Hour, 10 * day, time.Hour, time.Hour},
		{"RRSIGs about to expire", 2 * day, 90 * time.Minute, time.Hour, time.Hour},
		{"RRSIGs already expired", 2 * day, -time.Hour, time.Hour, time.Hour},
		{"half of an odd TTL", 7201 * time.Second, 10 * day, 3600500 * time.Millisecond, time.Hour},
	} {
		if got := refreshInterval(c.origTTL, c.expiry); got != c.refresh {
			t.Errorf("%s: refresh %v, want %v", c.name, got, c.refresh)
		}
		if got := retryInterval(c.origTTL, c.expiry); got != c.retry {
			t.Errorf("%s: retry %v, want %v", c.name, got, c.retry)
		}
	}
}

// TestNextRefresh checks the timer through a Tracker: due at once before
// any RRset, the refresh interval after each validated one, the retry
// interval after a failure, and back to the refresh interval after a
// success.
func TestNextRefresh(t *testing.T) {
	a := newTestKey(t, ".", 257)
	e := newEnv(t, ".", dsSet(t, a), "")
	start := e.clock.now()
	if got := e.tr.NextRefresh(); !got.Equal(start) {
		t.Errorf("before any RRset: %v, want now (%v)", got, start)
	}
	e.tr.Failed()
	if got, want := e.tr.NextRefresh(), start.Add(time.Hour); !got.Equal(want) {
		t.Errorf("after a failure before any RRset: %v, want %v", got, want)
	}

	// The root's parameters: TTL 2 days, RRSIGs valid 14 more days.
	e.clock.advance(time.Hour)
	fetched := e.clock.now()
	e.mustObserve(set(a), a)
	if got, want := e.tr.NextRefresh(), fetched.Add(day); !got.Equal(want) {
		t.Errorf("after an RRset: %v, want %v", got, want)
	}

	e.clock.advance(day)
	failed := e.clock.now()
	e.tr.Failed()
	if got, want := e.tr.NextRefresh(), failed.Add(2*day/10); !got.Equal(want) {
		t.Errorf("after a failure: %v, want %v", got, want)
	}
	e.clock.advance(2 * day / 10)
	failed = e.clock.now()
	e.tr.Failed()
	if got, want := e.tr.NextRefresh(), failed.Add(2*day/10); !got.Equal(want) {
		t.Errorf("after a second failure: %v, want %v", got, want)
	}

	// A short TTL and RRSIGs close to expiry: both shorten the interval.
	e.clock.advance(time.Hour)
	fetched = e.clock.now()
	keys, sigs := signSet(t, fetched, sigParams{origTTL: 6 * 3600, valid: 40 * time.Hour}, set(a), a)
	if err := e.tr.Observe(keys, sigs); err != nil {
		t.Fatal(err)
	}
	if got, want := e.tr.NextRefresh(), fetched.Add(3*time.Hour); !got.Equal(want) {
		t.Errorf("after a short-TTL RRset: %v, want %v", got, want)
	}
	e.tr.Failed()
	if got, want := e.tr.NextRefresh(), fetched.Add(time.Hour); !got.Equal(want) {
		t.Errorf("retry after a short-TTL RRset: %v, want %v", got, want)
	}
}
