package cache

import (
	"fmt"
	"math"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Policy chooses which live entry goes when a bound is reached.
type Policy string

// The eviction policies.
const (
	// LRU evicts the least recently used entry.
	LRU Policy = "lru"
	// TwoQueue is 2Q (Johnson and Shasha, 1994): entries seen once wait in
	// a small queue of their own and are evicted from it first, so a flood
	// of names asked once cannot push out the names asked again and again.
	TwoQueue Policy = "2q"
)

// evictor is an eviction policy over one shard's entries. It enforces no
// bound itself: the shard asks it for the entry to evict.
type evictor interface {
	Get(k key) (*entry, bool)  // the entry, counted as a use
	Peek(k key) (*entry, bool) // the entry, not counted as a use
	Add(k key, e *entry)       // k's entry, replacing and using what k held
	Remove(k key) bool
	RemoveOldest() (key, *entry, bool) // the entry the policy would evict
	Len() int
	Keys() []key // oldest first, as RemoveOldest would go
	// ghostBytes estimates the memory the policy holds beyond its
	// entries (2Q's history of evicted keys).
	ghostBytes() int64
}

// unbounded is the size given to simplelru: bounds are the shard's.
const unbounded = math.MaxInt

func newEvictor(p Policy) (evictor, error) {
	switch p {
	case LRU, "":
		l, err := simplelru.NewLRU[key, *entry](unbounded, nil)
		if err != nil {
			return nil, fmt.Errorf("new lru: %w", err)
		}
		return lru{l}, nil
	case TwoQueue:
		return newTwoQueue()
	}
	return nil, fmt.Errorf("unknown cache policy %q (want %q or %q)", p, LRU, TwoQueue)
}

// lru is simplelru as an evictor.
type lru struct {
	*simplelru.LRU[key, *entry]
}

func (l lru) Add(k key, e *entry) { l.LRU.Add(k, e) }

func (lru) ghostBytes() int64 { return 0 }

// The 2Q parameters: the share of entries that may be ones seen only once
// before they are evicted first, and how many evicted keys are remembered
// per entry held (Kin 25% and Kout 50% in the paper).
const (
	recentShare = 4 // recent may hold up to 1/recentShare of the entries
	ghostShare  = 2 // ghosts may number up to 1/ghostShare of the entries
	// ghostOverhead approximates the bytes of one remembered key beyond
	// its name: the list element, the map slot and the key.
	ghostOverhead = 160
)

// twoQueue is 2Q composed of three simplelru lists. An entry enters
// recent; a second use moves it to frequent. Evicting takes the oldest of
// recent while recent holds more than its share, and remembers its key
// among the ghosts; a key that comes back while remembered goes straight
// to frequent.
type twoQueue struct {
	recent   *simplelru.LRU[key, *entry]
	frequent *simplelru.LRU[key, *entry]
	ghosts   *simplelru.LRU[key, struct{}]
	ghostMem int64
}

func newTwoQueue() (*twoQueue, error) {
	recent, err := simplelru.NewLRU[key, *entry](unbounded, nil)
	if err != nil {
		return nil, fmt.Errorf("new 2q: %w", err)
	}
	frequent, err := simplelru.NewLRU[key, *entry](unbounded, nil)
	if err != nil {
		return nil, fmt.Errorf("new 2q: %w", err)
	}
	q := &twoQueue{recent: recent, frequent: frequent}
	q.ghosts, err = simplelru.NewLRU[key, struct{}](unbounded, func(k key, _ struct{}) {
		q.ghostMem -= ghostSize(k)
	})
	if err != nil {
		return nil, fmt.Errorf("new 2q: %w", err)
	}
	return q, nil
}

func ghostSize(k key) int64 { return int64(ghostOverhead + len(k.name)) }

func (q *twoQueue) Get(k key) (*entry, bool) {
	if e, ok := q.frequent.Get(k); ok {
		return e, true
	}
	if e, ok := q.recent.Peek(k); ok {
		q.recent.Remove(k)
		q.frequent.Add(k, e)
		return e, true
	}
	return nil, false
}

func (q *twoQueue) Peek(k key) (*entry, bool) {
	if e, ok := q.frequent.Peek(k); ok {
		return e, true
	}
	return q.recent.Peek(k)
}

func (q *twoQueue) Add(k key, e *entry) {
	switch {
	case q.frequent.Contains(k):
		q.frequent.Add(k, e)
	case q.recent.Remove(k), q.ghosts.Remove(k):
		q.frequent.Add(k, e) // held or seen before: this is a second use
	default:
		q.recent.Add(k, e)
	}
}

func (q *twoQueue) Remove(k key) bool {
	return q.frequent.Remove(k) || q.recent.Remove(k)
}

func (q *twoQueue) RemoveOldest() (key, *entry, bool) {
	if q.recent.Len() > 0 && (q.recent.Len()*recentShare > q.Len() || q.frequent.Len() == 0) {
		k, e, ok := q.recent.RemoveOldest()
		q.remember(k)
		return k, e, ok
	}
	return q.frequent.RemoveOldest()
}

// remember adds an evicted key to the ghosts, within their share.
func (q *twoQueue) remember(k key) {
	q.ghosts.Add(k, struct{}{})
	q.ghostMem += ghostSize(k)
	for q.ghosts.Len() > max(q.Len()/ghostShare, 1) {
		q.ghosts.RemoveOldest()
	}
}

func (q *twoQueue) Len() int { return q.recent.Len() + q.frequent.Len() }

// Keys lists recent before frequent: the order in which they would go
// while recent holds more than its share.
func (q *twoQueue) Keys() []key {
	return append(q.recent.Keys(), q.frequent.Keys()...)
}

func (q *twoQueue) ghostBytes() int64 { return q.ghostMem }
