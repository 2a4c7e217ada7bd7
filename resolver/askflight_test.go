package resolver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestAskFlights: followers of a shared upstream query get the leader's
// outcome, each with a message of its own (the leader's too); a follower
// whose ctx ends stops waiting; a leader whose ctx ends still finishes
// the query for its followers; a leader that panics leaves its followers
// an error, not a wait.
func TestAskFlights(t *testing.T) {
	var f askFlights
	release := make(chan struct{})
	asked := make(chan struct{})
	reply := new(dns.Msg)
	reply.SetQuestion("www.example.test.", dns.TypeA)
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	type result struct {
		out outcome
		err error
	}
	leader := make(chan result, 1)
	go func() {
		out, err := f.do(leaderCtx, "k", func(ctx context.Context) (outcome, error) {
			close(asked)
			<-release
			if ctx.Err() != nil {
				return outcome{}, ctx.Err()
			}
			return outcome{kind: kindAnswer, msg: reply}, nil
		})
		leader <- result{out, err}
	}()
	<-asked
	follower := make(chan result, 1)
	go func() {
		out, err := f.do(t.Context(), "k", func(context.Context) (outcome, error) {
			t.Error("a follower asked by itself")
			return outcome{}, nil
		})
		follower <- result{out, err}
	}()
	impatient, giveUp := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := f.do(impatient, "k", func(context.Context) (outcome, error) { return outcome{}, nil })
		gaveUp <- err
	}()
	pollFollowers(t, &f, "k", 2)
	giveUp()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("a follower that gave up got %v, want context.Canceled", err)
	}
	cancelLeader() // the query goes on for the follower
	close(release)
	l, fo := <-leader, <-follower
	if l.err != nil || fo.err != nil {
		t.Fatalf("leader %v, follower %v; want both answered", l.err, fo.err)
	}
	if l.out.msg == reply || fo.out.msg == reply || l.out.msg == fo.out.msg {
		t.Error("a shared message was handed out as it is, not copied")
	}

	// A leader that panics.
	asked2 := make(chan struct{})
	release2 := make(chan struct{})
	go func() {
		defer func() { _ = recover() }() // the walk's own recover, in real life
		_, _ = f.do(t.Context(), "p", func(context.Context) (outcome, error) {
			close(asked2)
			<-release2
			panic("boom")
		})
	}()
	<-asked2
	orphan := make(chan error, 1)
	go func() {
		_, err := f.do(t.Context(), "p", func(context.Context) (outcome, error) { return outcome{}, nil })
		orphan <- err
	}()
	pollFollowers(t, &f, "p", 1)
	close(release2)
	select {
	case err := <-orphan:
		if !errors.Is(err, ErrInternal) {
			t.Errorf("the follower of a leader that panicked got %v, want ErrInternal", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the follower of a leader that panicked is still waiting")
	}
}

// pollFollowers waits until the call named key has n followers.
func pollFollowers(t *testing.T, f *askFlights, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		c := f.calls[key]
		got := 0
		if c != nil {
			got = c.followers
		}
		f.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d followers of %q, want %d", got, key, n)
		}
		time.Sleep(time.Millisecond) // polling, bounded by the deadline above
	}
}
