// Package dnstest holds what the tests of several packages need: records
// from zone-format strings, comparable renderings of record sets, a clock
// moved by hand, and a ResponseWriter that records what a handler writes
// (in the manner of coredns's plugin/pkg/dnstest), and free loopback
// ports for servers a test starts. Only tests import it.
package dnstest

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// RRs parses zone-format lines (absolute names, explicit TTLs) into
// records; a bad line fails the test.
func RRs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	out := make([]dns.RR, 0, len(lines))
	for _, line := range lines {
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			t.Fatalf("bad test record %q: %v", line, err)
		}
		out = append(out, rr)
	}
	return out
}

// Sorted renders records in presentation form, lower-cased and sorted,
// TTLs included: for comparing sections exactly, in any order.
func Sorted(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.ToLower(rr.String()))
	}
	slices.Sort(out)
	return out
}

// Set renders records as a set of "name type rdata", lower-cased, without
// TTLs: for comparing answers whose TTLs may differ.
func Set(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		h := rr.Header()
		rdata := strings.TrimPrefix(rr.String(), h.String())
		out = append(out, strings.ToLower(h.Name+" "+dns.TypeToString[h.Rrtype]+" "+rdata))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Clock is a clock that moves only when told to. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Recorder is a dns.ResponseWriter that keeps every reply written to it,
// as a message and as the bytes a client would have received.
type Recorder struct {
	Remote net.Addr
	Msgs   []*dns.Msg
	Raw    [][]byte
}

// NewRecorder returns a recorder for a query that came over network
// ("udp" or "tcp") from client, port 40000.
func NewRecorder(network string, client netip.Addr) *Recorder {
	ap := netip.AddrPortFrom(client, 40000)
	if network == "tcp" {
		return &Recorder{Remote: net.TCPAddrFromAddrPort(ap)}
	}
	return &Recorder{Remote: net.UDPAddrFromAddrPort(ap)}
}

// Reply returns the last message written, or nil.
func (r *Recorder) Reply() *dns.Msg {
	if len(r.Msgs) == 0 {
		return nil
	}
	return r.Msgs[len(r.Msgs)-1]
}

// ReplyBytes returns the last reply as packed, or nil.
func (r *Recorder) ReplyBytes() []byte {
	if len(r.Raw) == 0 {
		return nil
	}
	return r.Raw[len(r.Raw)-1]
}

// LocalAddr implements dns.ResponseWriter.
func (r *Recorder) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

// RemoteAddr implements dns.ResponseWriter.
func (r *Recorder) RemoteAddr() net.Addr { return r.Remote }

// WriteMsg implements dns.ResponseWriter: it packs m as a server would.
func (r *Recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	r.Msgs = append(r.Msgs, m)
	r.Raw = append(r.Raw, b)
	return nil
}

// Write implements dns.ResponseWriter.
func (r *Recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	r.Msgs = append(r.Msgs, m)
	r.Raw = append(r.Raw, slices.Clone(b))
	return len(b), nil
}

// Close implements dns.ResponseWriter.
func (r *Recorder) Close() error { return nil }

// TsigStatus implements dns.ResponseWriter.
func (r *Recorder) TsigStatus() error { return nil }

// TsigTimersOnly implements dns.ResponseWriter.
func (r *Recorder) TsigTimersOnly(bool) {}

// Hijack implements dns.ResponseWriter.
func (r *Recorder) Hijack() {}

// FreeAddr returns 127.0.0.1 with a port that was free for UDP and TCP a
// moment ago, for a server started by the test (another process may
// still take it).
func FreeAddr(t testing.TB) netip.AddrPort {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
		ln, err := net.Listen("tcp", addr.String())
		_ = pc.Close()
		if err == nil {
			_ = ln.Close()
			return addr
		}
	}
	t.Fatal("find a free port: 20 UDP ports were taken over TCP")
	return netip.AddrPort{}
}

// Program returns the path of a program a test needs. Without it the test
// is skipped, except under CI=true, where it fails: CI installs it.
func Program(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; .ci/run must install it (%v)", name, err)
	}
	t.Skipf("%s is not installed", name)
	return ""
}
