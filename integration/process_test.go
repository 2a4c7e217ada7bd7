package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// process is a program started by a test, stopped with SIGTERM when the
// test ends; its output goes to the test log if the test fails.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	output bytes.Buffer
	lines  chan string // stderr and stdout lines, as they come
	done   chan struct{}
	err    error // from Wait, once done is closed
}

// startProcess runs name with args and stops it at the end of the test.
// wantExit0 makes a non-zero exit after SIGTERM a test failure.
func startProcess(t *testing.T, wantExit0 bool, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(name, args...), lines: make(chan string, 1024), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Go(func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				p.mu.Lock()
				p.output.WriteString(sc.Text() + "\n")
				p.mu.Unlock()
				select {
				case p.lines <- sc.Text():
				default: // nobody is waiting for lines any more
				}
			}
		})
	}
	go func() {
		readers.Wait()
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM) // it may have exited already
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not stop within 15 s of SIGTERM", name)
		}
		if wantExit0 && p.err != nil {
			t.Errorf("%s exited with %v after SIGTERM, want a clean exit", name, p.err)
		}
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", name, strings.Join(args, " "), p.log())
		}
	})
	return p
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// waitFor reads output lines until one contains want. It fails if the
// process exits first or nothing matches within the timeout.
func (p *process) waitFor(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, want) {
				return line
			}
		case <-p.done:
			t.Fatalf("process exited (%v) before printing %q", p.err, want)
		case <-deadline:
			t.Fatalf("no %q within %v", want, timeout)
		}
	}
}

// exited reports whether the process has ended, waiting up to d.
func (p *process) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// labPort draws a port for a lab started by the binary; the binary fails
// to start if it is taken, and the caller tries another.
func labPort() int { return 20000 + rand.IntN(12000) }

// served is a `rootwalk serve` started by a test.
type served struct {
	p     *process
	addr  netip.AddrPort // DNS, UDP and TCP
	admin netip.AddrPort // the admin API
}

// startServe runs `rootwalk serve` with args plus free listen and admin
// addresses, retrying with a new lab port when the lab's port was taken,
// and returns once the roots are primed.
func startServe(t *testing.T, args func(labPort int) []string) served {
	t.Helper()
	return startServeBinary(t, rootwalkBin, args)
}

// startServeBinary is startServe for the rootwalk binary at bin.
func startServeBinary(t *testing.T, bin string, args func(labPort int) []string) served {
	t.Helper()
	var lastLog string
	for range 5 {
		s := served{addr: dnstest.FreeAddr(t), admin: dnstest.FreeAddr(t)}
		all := append([]string{"serve", "--listen", s.addr.String(), "--admin", s.admin.String()}, args(labPort())...)
		s.p = startProcess(t, true, bin, all...)
		if ok := waitPrimed(s.p, 30*time.Second); ok {
			return s
		}
		lastLog = s.p.log()
		if !strings.Contains(lastLog, "address already in use") {
			t.Fatalf("rootwalk %s did not start:\n%s", strings.Join(all, " "), lastLog)
		}
	}
	t.Fatalf("rootwalk did not start in 5 attempts:\n%s", lastLog)
	return served{}
}

// waitPrimed reports whether the process logged that the roots are primed.
func waitPrimed(p *process, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, "roots primed") {
				return true
			}
		case <-p.done:
			return false
		case <-deadline:
			return false
		}
	}
}

// runCommand runs a short command and returns its output.
func runCommand(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), fmt.Errorf("%s exited %d: %s", name, exit.ExitCode(), out)
		}
		return string(out), err
	}
	return string(out), nil
}
