// Package proctest runs a program for a test: its output kept and
// readable line by line as it comes, the program stopped when the test
// ends and its output logged if the test failed. Only tests import it.
package proctest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopTimeout is how long Stop waits after SIGTERM before it kills.
const stopTimeout = 15 * time.Second

// Process is a program a test started. It is safe for concurrent use.
type Process struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	// lines carries output lines to WaitFor; done closes when it exits.
	lines   chan string
	done    chan struct{}
	stopped bool
}

// Start runs bin with args, env added to the test's environment, and
// stops it (Stop) when the test ends.
func Start(t testing.TB, env []string, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{name: filepath.Base(bin), cmd: exec.Command(bin, args...), lines: make(chan string, 4096), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody reads lines any more
			}
		}
		_ = p.cmd.Wait() // how it ended is in its output
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", bin, strings.Join(args, " "), p.Output())
		}
	})
	return p
}

// WaitFor reports whether a line containing want came within timeout;
// false too if the program exited first.
func (p *Process) WaitFor(want string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, want) {
				return true
			}
		case <-p.done:
			return false
		case <-deadline:
			return false
		}
	}
}

// Running reports whether the program has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Output is everything the program has written so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Stop sends SIGTERM, as an operator would, and waits for the exit,
// killing the program after stopTimeout. Only the first Stop or Kill acts.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	if !p.stopping() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // it may have exited already
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill() // last resort
		<-p.done
		t.Errorf("%s did not stop within %v of SIGTERM", p.name, stopTimeout)
	}
}

// Kill stops the program at once, as a crash would (SIGKILL), and waits.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if !p.stopping() {
		return
	}
	_ = p.cmd.Process.Kill() // it may have exited already
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Errorf("%s did not stop within %v of SIGKILL", p.name, stopTimeout)
	}
}

// stopping marks the process stopped and reports whether it was not yet.
func (p *Process) stopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	was := p.stopped
	p.stopped = true
	return !was
}
