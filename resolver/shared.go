package resolver

import (
	"context"
	"time"

	"github.com/miekg/dns"
)

// SharedCache is a cache tier the resolver shares with others, such as a
// fleet's in Redis (package cache/redis). The resolver asks it for a
// client's question when its own cache misses, and hands it the answer of
// every walk that went upstream. Answers it gives are trusted as the
// resolver's own: whatever validated them validated them for the fleet.
type SharedCache interface {
	// Answer returns the answer to q that the tier holds, and when it was
	// stored: its TTLs are those at that time. ok is false on a miss, and
	// when the tier cannot answer within its own short deadline.
	Answer(ctx context.Context, q Query, now time.Time) (m *dns.Msg, stored time.Time, ok bool)
	// Store hands over m, the answer to q at now. It must not block, nor
	// keep m: it decides what may be stored, and stores it in the
	// background.
	Store(q Query, m *dns.Msg, now time.Time)
}

// SharedCacheTarget is the Target of an EventCacheHit whose answer came
// from the shared cache rather than the resolver's own.
const SharedCacheTarget = "shared cache"

// sharedAnswer asks the shared cache for q when q is the client's own
// question, once per walk. A hit goes into the resolver's own cache at the
// time it was first stored, so that its TTLs go on counting down from
// then; one past its TTL is kept there for serve-stale only, and the walk
// goes upstream for a fresh answer.
func (w *walk) sharedAnswer(ctx context.Context, q dns.Question) (*dns.Msg, bool) {
	if w.r.shared == nil || w.privateCache || w.sharedAsked || w.client == nil || w.depth > 0 ||
		flightKey(q) != flightKey(*w.client) {
		return nil, false
	}
	w.sharedAsked = true
	query := w.query(q)
	m, stored, ok := w.r.shared.Answer(ctx, query, w.r.clock.Now())
	if !ok {
		return nil, false
	}
	_ = w.cache.storeAnswer(query, m, stored) // read back below, with the TTLs left now
	got, ok := w.cache.known(query, w.r.clock.Now())
	if !ok {
		return nil, false
	}
	w.sharedHit = true
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventCacheHit, Question: q, Reply: got, Target: SharedCacheTarget})
	}
	return got, true
}

// share hands the answer m to the client's question q to the shared
// cache, when this walk found it upstream: an answer that came from the
// shared cache is there already, and one from this resolver's own cache
// was shared when it was found. A cold trace's answers are its own.
func (w *walk) share(q Query, m *dns.Msg) {
	if w.r.shared == nil || w.privateCache || w.sharedHit || w.sent == 0 {
		return
	}
	w.r.shared.Store(q, m, w.r.clock.Now())
}
