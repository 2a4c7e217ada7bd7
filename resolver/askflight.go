package resolver

import (
	"context"
	"fmt"
	"sync"

	"github.com/rootwalk/rootwalk/resolver/internal/selection"
)

// askFlightTimeout bounds a shared upstream query: the longest a server
// is waited for, twice over (a UDP attempt, then TCP after truncation).
const askFlightTimeout = 2 * selection.MaxRTO

// askFlights shares identical upstream queries in flight between walks.
// The first walk to ask (the leader) exchanges on its own goroutine; the
// others wait for its outcome, each on its own ctx. Running the leader's
// exchange inline, rather than on a goroutine of its own as
// singleflight.DoChan would, saves a goroutine, its stack growth and two
// wake-ups per upstream query, most of which nobody shares.
type askFlights struct {
	mu    sync.Mutex
	calls map[string]*askCall
}

// askCall is one shared upstream query.
type askCall struct {
	done      chan struct{} // closed when out and err are final
	out       outcome
	err       error
	followers int // walks waiting on it; read once done is closed
}

// errAskAbandoned is what the followers of a leader that panicked get.
var errAskAbandoned = fmt.Errorf("%w: shared upstream query abandoned", ErrInternal)

// do returns the outcome of the query named key: as leader, by calling
// ask on a context of its own (ctx's values, not its cancellation, with
// its own timeout), so that a leader whose ctx ends cannot cancel the
// query for its followers; as follower, by waiting for the leader or
// for ctx. A message shared with followers is copied for each of them,
// and for the leader too, since they read it while it would change it.
func (f *askFlights) do(ctx context.Context, key string, ask func(ctx context.Context) (outcome, error)) (outcome, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = make(map[string]*askCall)
	}
	if c, ok := f.calls[key]; ok {
		c.followers++
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return outcome{}, ctx.Err()
		case <-c.done:
			return c.copied()
		}
	}
	c := &askCall{done: make(chan struct{}), err: errAskAbandoned}
	f.calls[key] = c
	f.mu.Unlock()

	finished := false
	defer func() {
		if !finished {
			// ask panicked: the followers get errAskAbandoned, and the
			// panic goes on to the walk's own recover.
			f.finish(key, c)
		}
	}()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), askFlightTimeout)
	out, err := ask(sctx)
	cancel()
	c.out, c.err = out, err
	followers := f.finish(key, c)
	finished = true
	if followers > 0 && out.msg != nil {
		out.msg = out.msg.Copy() // the followers read c.out.msg: it must not change
	}
	return out, err
}

// finish ends the call named key: later walks start a query of their own,
// and the followers have the outcome. It returns how many followers the
// call had.
func (f *askFlights) finish(key string, c *askCall) int {
	f.mu.Lock()
	delete(f.calls, key)
	n := c.followers
	f.mu.Unlock()
	close(c.done)
	return n
}

// copied returns the call's outcome with a message of the caller's own.
func (c *askCall) copied() (outcome, error) {
	if c.err != nil {
		return outcome{}, c.err
	}
	out := c.out
	if out.msg != nil {
		out.msg = out.msg.Copy()
	}
	return out, nil
}
