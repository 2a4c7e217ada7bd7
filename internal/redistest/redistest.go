// Package redistest runs a real redis-server on loopback for tests: no
// persistence, its own port, stopped when the test ends. Without
// redis-server installed the test is skipped, except under CI=true, where
// it fails (CI installs it). Only tests import it.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server started by a test.
type Server struct {
	Addr netip.AddrPort

	cmd     *exec.Cmd
	mu      sync.Mutex
	out     strings.Builder
	done    chan struct{}
	stopped bool
}

// Start runs redis-server on a free loopback port and returns once it
// accepts connections; the test's end stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is not installed; .ci/run must install it (%v)", err)
		}
		t.Skip("redis-server is not installed")
	}
	var last string
	for range 5 {
		s, ok := start(t, bin, freePort(t))
		if ok {
			return s
		}
		last = s.log()
		if !strings.Contains(last, "Address already in use") {
			break
		}
	}
	t.Fatalf("redis-server did not start:\n%s", last)
	return nil
}

// start runs one redis-server and reports whether it became ready.
func start(t testing.TB, bin string, port int) (*Server, bool) {
	t.Helper()
	s := &Server{Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "notice")
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				once.Do(func() { close(ready) })
			}
		}
		_ = s.cmd.Wait() // the exit status of a stopped server says nothing
		close(s.done)
	}()
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("redis-server output:\n%s", s.log())
		}
	})
	select {
	case <-ready:
		return s, true
	case <-s.done:
		return s, false
	case <-time.After(20 * time.Second):
		t.Fatalf("redis-server not ready within 20 s:\n%s", s.log())
		return s, false
	}
}

// Stop kills the server (as a crash would: SIGKILL) and waits for it.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	stopped := s.stopped
	s.stopped = true
	s.mu.Unlock()
	if stopped {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL) // it may have exited already
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Errorf("redis-server did not stop within 10 s of SIGKILL")
	}
}

func (s *Server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer func() { _ = ln.Close() }() // only the port was wanted
	return ln.Addr().(*net.TCPAddr).Port
}

// String is the server's address, host:port.
func (s *Server) String() string { return fmt.Sprint(s.Addr) }
