package workers

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunsEveryTask hands many tasks from many goroutines and checks that
// each runs exactly once, and that Close leaves no goroutine behind.
func TestRunsEveryTask(t *testing.T) {
	p := New(4)
	const senders, each = 8, 500
	var ran atomic.Int64
	var done sync.WaitGroup
	done.Add(senders * each)
	var send sync.WaitGroup
	for range senders {
		send.Go(func() {
			for range each {
				p.Go(func() { ran.Add(1); done.Done() })
			}
		})
	}
	send.Wait()
	done.Wait()
	p.Close()
	if got := ran.Load(); got != senders*each {
		t.Errorf("%d tasks ran, want %d", got, senders*each)
	}
}

// TestReusesGoroutines runs tasks one after another: once the first
// goroutine waits, the next task is handed to it rather than to a new one.
// A goroutine counts itself idle just before it starts to wait, so a task
// handed over in between starts another: the test lets each goroutine
// settle for a millisecond, and allows a few such misses.
func TestReusesGoroutines(t *testing.T) {
	p := New(2)
	defer p.Close()
	const tasks = 100
	for i := range tasks {
		done := make(chan struct{})
		p.Go(func() { close(done) })
		<-done
		for p.idle.Load() == 0 {
			runtime.Gosched() // the goroutine has not finished its task's bookkeeping
		}
		time.Sleep(time.Millisecond)
		if n := p.idle.Load(); n > 2 {
			t.Fatalf("task %d: %d idle goroutines, at most 2 allowed", i, n)
		}
	}
	if n := p.started.Load(); n > 10 {
		t.Errorf("%d goroutines started for %d tasks run one at a time, want a few", n, tasks)
	}
}

// TestIdleBound blocks more tasks at once than the pool keeps, and checks
// that only maxIdle goroutines stay once they finish.
func TestIdleBound(t *testing.T) {
	p := New(3)
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(10)
	for range 10 {
		p.Go(func() { started.Done(); <-release })
	}
	started.Wait()
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for p.idle.Load() != 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := p.idle.Load(); n != 3 {
		t.Errorf("%d goroutines idle once ten tasks ended, want the pool's 3", n)
	}
	p.Close() // waits for the ten to end, the idle ones included
	if n := p.idle.Load(); n != 0 {
		t.Errorf("%d idle after Close, want 0", n)
	}
}
