package heapfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name        string
		live, floor uint64
		want        int
	}{
		{"no floor", 10 * mib, 0, 100},
		{"floor below twice the live heap", 10 * mib, 15 * mib, 100},
		{"floor exactly twice", 10 * mib, 20 * mib, 100},
		{"floor far above", 10 * mib, 1000 * mib, 9900},
		{"no collection yet", 0, 128 * mib, 3100},
		{"tiny live heap", 1, 128 * mib, 3100},
		{"floor of a terabyte", 4 * mib, 1 << 40, maxPercent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PercentFor(tc.live, tc.floor); got != tc.want {
				t.Errorf("PercentFor(%d, %d) = %d, want %d", tc.live, tc.floor, got, tc.want)
			}
		})
	}
}

// TestSetFollowsCollections checks that the floor is applied at once and
// after each collection, and that zero restores the default.
func TestSetFollowsCollections(t *testing.T) {
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { Set(0); debug.SetGCPercent(old) })

	Set(1 << 40)
	if p := Percent(); p <= 100 {
		t.Fatalf("after Set(1 TiB): GOGC %d, want above 100", p)
	}
	if got := debug.SetGCPercent(-1); got != Percent() {
		t.Errorf("runtime GOGC %d, Percent %d", got, Percent())
	}
	debug.SetGCPercent(Percent())

	// Lower the floor without adjusting, then let a collection adjust.
	floor.Store(0)
	deadline := time.Now().Add(10 * time.Second)
	for Percent() != 100 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if p := Percent(); p != 100 {
		t.Errorf("after collections with no floor: GOGC %d, want 100", p)
	}
}

func TestGOGCEnvironmentWins(t *testing.T) {
	t.Setenv("GOGC", "50")
	before := Percent()
	Set(1 << 40)
	if Percent() != before {
		t.Errorf("Set changed GOGC to %d although GOGC is set", Percent())
	}
}
