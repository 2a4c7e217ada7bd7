// Package redistest runs a real redis-server on loopback for tests: no
// persistence, its own port, stopped when the test ends. Without
// redis-server installed the test is skipped, except under CI=true, where
// it fails (CI installs it). Only tests import it.
package redistest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/internal/proctest"
)

// readyTimeout bounds the wait for a new server to accept connections.
const readyTimeout = 20 * time.Second

// Server is a redis-server started by a test.
type Server struct {
	Addr netip.AddrPort
	p    *proctest.Process
}

// Start runs redis-server on a free loopback port and returns once it
// accepts connections; the test's end stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := dnstest.Program(t, "redis-server")
	var last string
	for range 5 {
		s := &Server{Addr: dnstest.FreeAddr(t)}
		s.p = proctest.Start(t, nil, bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(int(s.Addr.Port())),
			"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "notice")
		if s.p.WaitFor("Ready to accept connections", readyTimeout) {
			return s
		}
		last = s.p.Output()
		s.p.Kill(t)
		if !strings.Contains(last, "Address already in use") {
			break
		}
	}
	t.Fatalf("redis-server did not start:\n%s", last)
	return nil
}

// Stop kills the server (as a crash would: SIGKILL) and waits for it.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.p.Kill(t)
}

// String is the server's address, host:port.
func (s *Server) String() string { return fmt.Sprint(s.Addr) }
