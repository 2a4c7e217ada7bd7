package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rootwalk/rootwalk/cache/redis"
	"github.com/rootwalk/rootwalk/internal/histogram"
)

// fakeShared is a SharedCache that records flushes.
type fakeShared struct {
	flushes []string
	err     error
	stats   redis.Stats
}

func (f *fakeShared) Stats() redis.Stats { return f.stats }

func (f *fakeShared) Flush(_ context.Context, name string, subtree bool) (int, error) {
	if subtree {
		name += " subtree"
	}
	f.flushes = append(f.flushes, name)
	return 7, f.err
}

func TestAdminFlushReachesTheFleet(t *testing.T) {
	c, clock := cacheFixture(t)
	shared := &fakeShared{}
	admin := NewAdmin(AdminOptions{Cache: c, Clock: clock, Shared: shared})
	for _, path := range []string{"/cache/flush?name=www.example.com", "/cache/flush?name=example.com&subtree=1", "/cache/flush"} {
		w := request(t, admin.Handler(), http.MethodPost, path, "")
		if w.Code != http.StatusOK {
			t.Fatalf("POST %s: status %d: %s", path, w.Code, w.Body)
		}
		var got CacheFlushJSON
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Shared == nil || got.Shared.Deleted != 7 || got.Shared.Error != "" {
			t.Errorf("POST %s: shared = %+v, want 7 deleted", path, got.Shared)
		}
	}
	if want := []string{"www.example.com.", "example.com. subtree", ""}; strings.Join(shared.flushes, ",") != strings.Join(want, ",") {
		t.Errorf("fleet flushes = %q, want %q", shared.flushes, want)
	}

	// A fleet that could not be told is a 502: this instance is flushed,
	// the others may not be.
	shared.err = errors.New("redis: connection refused")
	w := request(t, admin.Handler(), http.MethodPost, "/cache/flush", "")
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "connection refused") {
		t.Errorf("failed fleet flush: status %d, body %s; want 502 with the error", w.Code, w.Body)
	}
	// A bad request never reaches the fleet.
	n := len(shared.flushes)
	request(t, admin.Handler(), http.MethodPost, "/cache/flush?name=a..b", "")
	if len(shared.flushes) != n {
		t.Error("a bad flush request was sent to the fleet")
	}
}

func TestAdminRedisNumbers(t *testing.T) {
	h := histogram.New(histogram.DefaultBounds)
	h.Observe(300 * time.Microsecond)
	shared := &fakeShared{stats: redis.Stats{Hits: 3, Misses: 1, Errors: 1, Writes: 9, Dropped: 2, Breaker: redis.BreakerOpen,
		GetLatency: h.Snapshot(), SetLatency: histogram.New(histogram.DefaultBounds).Snapshot()}}
	admin := NewAdmin(AdminOptions{Shared: shared})
	w := request(t, admin.Handler(), http.MethodGet, "/stats", "")
	var got Stats
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if r := got.Redis; r == nil || r.Hits != 3 || r.HitRatio != 0.6 || r.Writes.Dropped != 2 || r.Breaker != "open" || r.GetMS.P50 == 0 {
		t.Errorf("/stats redis = %+v", got.Redis)
	}
	w = request(t, admin.Handler(), http.MethodGet, "/metrics", "")
	for _, want := range []string{
		"rootwalk_redis_hits_total 3",
		`rootwalk_redis_breaker_state{state="open"} 1`,
		`rootwalk_redis_breaker_state{state="closed"} 0`,
		`rootwalk_redis_writes_total{outcome="dropped"} 2`,
		`rootwalk_redis_call_duration_seconds_count{op="get"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
