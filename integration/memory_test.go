package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/server"
)

// Settings of the memory bound test (the issue: "with --cache-memory 8MiB
// and a query stream of a million distinct names, resident memory stays
// under 8 MiB + 64 MiB").
const (
	memoryCache = 8 << 20 // --cache-memory
	// memoryHeadroom is what the process may hold beyond the cache: the Go
	// runtime, the binary, the lab, buffers and the garbage of the queries
	// in flight.
	memoryHeadroom = 64 << 20
	// memoryNames is how many distinct names are asked under each policy
	// by default; the environment variable memoryNamesEnv asks for more
	// (the million). Its name must not start with ROOTWALK_: the
	// binary refuses unknown ROOTWALK_ variables, and the tests' processes
	// inherit the environment.
	memoryNames    = 50_000
	memoryNamesEnv = "RWTEST_MEMORY_NAMES"
	// memoryClients is how many clients ask at once, each with its own
	// socket and one query in flight.
	memoryClients = 48
	// memorySample is how often the server's resident memory is read.
	memorySample = 200 * time.Millisecond
	// memoryTimeout is how long a client waits for one reply; a query that
	// times out is asked once more.
	memoryTimeout = 3 * time.Second
)

// TestMemoryBound runs `rootwalk serve --lab --cache-memory 8MiB`, built
// without the race detector (which multiplies memory), asks it a stream of
// distinct names under the lab's wildcard, and checks that the server's
// peak resident memory (VmHWM) stays under the cache bound plus
// memoryHeadroom, under each eviction policy. The million names:
//
//	RWTEST_MEMORY_NAMES=1000000 go test -timeout 30m -run TestMemoryBound -v ./integration/
func TestMemoryBound(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/status")
	}
	n := memoryNames
	if v := os.Getenv(memoryNamesEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of names", memoryNamesEnv, v)
		}
	}
	bin := buildPlain(t)
	for _, policy := range []string{"lru", "2q"} {
		t.Run(policy, func(t *testing.T) {
			srv := startServeBinary(t, bin, func(labPort int) []string {
				return []string{"--lab", "--lab-port", strconv.Itoa(labPort),
					"--cache-memory", "8MiB", "--cache-policy", policy}
			})
			pid := srv.p.cmd.Process.Pid
			before := procStatus(t, pid, "VmRSS")

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
			defer cancel()
			sampled := sampleRSS(ctx, pid)
			start := time.Now()
			res := streamWild(ctx, srv.addr, n)
			took := time.Since(start)
			cancel()
			peakSampled := <-sampled

			hwm := procStatus(t, pid, "VmHWM")
			final := procStatus(t, pid, "VmRSS")
			var st server.Stats
			if err := json.Unmarshal(httpGet(t, "http://"+srv.admin.String()+"/stats"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Cache == nil {
				t.Fatal("/stats has no cache")
			}
			t.Logf("%s: %d names in %v (%.0f queries/s), %d retried after a timeout, %d failed",
				policy, n, took.Round(time.Millisecond), float64(n)/took.Seconds(), res.retried, res.failed)
			t.Logf("%s: RSS at start %s, peak %s (VmHWM; sampled peak %s), at end %s; bound %s",
				policy, mib(before), mib(hwm), mib(peakSampled), mib(final), mib(memoryCache+memoryHeadroom))
			t.Logf("%s: cache %d entries (%d answers, %d RRsets), %s estimated, %d evictions, %d expired",
				policy, st.Cache.Entries, st.Cache.Answers.Entries, st.Cache.RRsets.Entries,
				mib(st.Cache.Bytes), st.Cache.Evictions, st.Cache.Expired)
			if st.Upstream != nil {
				t.Logf("%s: %d upstream queries (%.2f per name), %d timeouts", policy,
					st.Upstream.Queries, float64(st.Upstream.Queries)/float64(n), st.Upstream.Timeouts)
			}
			for _, e := range res.errs {
				t.Error(e)
			}
			if res.failed > 0 {
				t.Errorf("%d of %d queries failed (first errors above)", res.failed, n)
			}
			if hwm >= memoryCache+memoryHeadroom {
				t.Errorf("peak RSS %s, want under %s", mib(hwm), mib(memoryCache+memoryHeadroom))
			}
			if st.Cache.Bytes > memoryCache {
				t.Errorf("cache estimates %d bytes, above its bound %d", st.Cache.Bytes, memoryCache)
			}
			if n > 2*st.Cache.Entries && st.Cache.Evictions == 0 {
				t.Errorf("%d names into %d entries without an eviction", n, st.Cache.Entries)
			}
		})
	}
}

// buildPlain builds rootwalk without the race detector into a temporary
// directory and returns its path.
func buildPlain(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rootwalk")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/rootwalk/rootwalk/cmd/rootwalk").CombinedOutput()
	if err != nil {
		t.Fatalf("build rootwalk: %v\n%s", err, out)
	}
	return bin
}

// streamResult is what streamWild saw.
type streamResult struct {
	retried int64   // queries asked again after a timeout
	failed  int64   // queries with no right answer, even after a retry
	errs    []error // the first few failures
}

// maxStreamErrors is how many failures streamResult keeps.
const maxStreamErrors = 10

// streamWild asks addr for n distinct names under the lab's wildcard, from
// memoryClients clients at once, and checks each reply.
func streamWild(ctx context.Context, addr netip.AddrPort, n int) *streamResult {
	var (
		next    atomic.Int64
		res     streamResult
		mu      sync.Mutex
		clients sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		res.failed++
		if len(res.errs) < maxStreamErrors {
			res.errs = append(res.errs, err)
		}
	}
	run := fmt.Sprintf("%08x", rand.Uint32()) // names are new to any cache
	for range memoryClients {
		clients.Go(func() {
			c := &dns.Client{Net: "udp", Timeout: memoryTimeout}
			conn, err := c.DialContext(ctx, addr.String())
			if err != nil {
				fail(fmt.Errorf("dial %s: %w", addr, err))
				return
			}
			defer conn.Close()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				name := fmt.Sprintf("q%d-%s.wild.example.com.", i, run)
				err := askWild(c, conn, name)
				var timeout net.Error
				if errors.As(err, &timeout) && timeout.Timeout() {
					mu.Lock()
					res.retried++
					mu.Unlock()
					err = askWild(c, conn, name)
				}
				if err != nil {
					fail(err)
				}
			}
		})
	}
	clients.Wait()
	if ctx.Err() != nil {
		res.errs = append(res.errs, fmt.Errorf("stream stopped early: %w", ctx.Err()))
	}
	return &res
}

// askWild asks for name's A record over conn and checks that the answer
// is the lab's wildcard.
func askWild(c *dns.Client, conn *dns.Conn, name string) error {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	q.SetEdns0(1232, false)
	reply, _, err := c.ExchangeWithConn(q, conn)
	if err != nil {
		return fmt.Errorf("%s A: %w", name, err)
	}
	if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 {
		return fmt.Errorf("%s A: %s with %d answers, want NOERROR with the wildcard's A",
			name, dns.RcodeToString[reply.Rcode], len(reply.Answer))
	}
	a, ok := reply.Answer[0].(*dns.A)
	if !ok || a.A.String() != "192.0.2.99" || !strings.EqualFold(a.Hdr.Name, name) {
		return fmt.Errorf("%s A: answer %v, want %s A 192.0.2.99", name, reply.Answer[0], name)
	}
	return nil
}

// sampleRSS reads pid's VmRSS every memorySample until ctx is done, then
// sends the highest value it saw.
func sampleRSS(ctx context.Context, pid int) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(memorySample)
		defer tick.Stop()
		for {
			if v, err := readProcStatus(pid, "VmRSS"); err == nil {
				peak = max(peak, v)
			}
			select {
			case <-ctx.Done():
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// procStatus returns the field of /proc/pid/status, in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	v, err := readProcStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readProcStatus reads one "kB" field (VmRSS, VmHWM) of /proc/pid/status,
// in bytes.
func readProcStatus(pid int, field string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of %d: %w", pid, err)
	}
	for line := range strings.Lines(string(status)) {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			return 0, fmt.Errorf("/proc/%d/status %s: %q, want a size in kB", pid, field, rest)
		}
		v, err := strconv.ParseInt(kb, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s: %w", pid, field, err)
		}
		return v << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// mib formats a byte count in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
