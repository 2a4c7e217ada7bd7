// Package workers runs short tasks on goroutines that outlive them.
//
// A goroutine starts on a small stack and grows it, copying it each time,
// as its calls go deeper. The full path of a query (parse, walk, cache,
// reply) goes deep, so a goroutine per query pays for that growth on
// every query: about 8% of rootwalk's CPU on cold names. A Pool hands a
// task to a goroutine that has already run others and kept its stack.
package workers

import (
	"sync"
	"sync/atomic"
)

// Pool runs tasks on reused goroutines. At most maxIdle of them wait for
// work; past that a goroutine that finishes its task ends. The zero Pool
// is not usable: make one with New.
type Pool struct {
	tasks   chan func()
	quit    chan struct{}
	stop    sync.Once
	idle    atomic.Int64
	started atomic.Int64 // goroutines started, ever
	maxIdle int64
	running sync.WaitGroup
}

// New returns a Pool that keeps up to maxIdle goroutines waiting for work
// (at least one).
func New(maxIdle int) *Pool {
	return &Pool{
		tasks:   make(chan func()), // unbuffered: a send succeeds only into a waiting worker
		quit:    make(chan struct{}),
		maxIdle: int64(max(maxIdle, 1)),
	}
}

// Go runs f on a waiting goroutine, or on a new one if none waits. It
// never blocks. It must not be called once Close has begun.
func (p *Pool) Go(f func()) {
	select {
	case p.tasks <- f:
	default:
		p.running.Add(1)
		p.started.Add(1)
		go p.work(f)
	}
}

// work runs f, then the tasks it is handed, until the pool has enough
// idle goroutines or is closed.
func (p *Pool) work(f func()) {
	defer p.running.Done()
	for {
		f()
		if p.idle.Add(1) > p.maxIdle {
			p.idle.Add(-1)
			return
		}
		select {
		case f = <-p.tasks:
			p.idle.Add(-1)
		case <-p.quit:
			p.idle.Add(-1)
			return
		}
	}
}

// Close ends the waiting goroutines and waits for the busy ones to finish
// their tasks.
func (p *Pool) Close() {
	p.stop.Do(func() { close(p.quit) })
	p.running.Wait()
}
