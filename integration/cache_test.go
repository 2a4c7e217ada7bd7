package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
)

// edeOf returns the Extended DNS Error of reply, if it has one.
func edeOf(reply *dns.Msg) *dns.EDNS0_EDE {
	if opt := reply.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return e
			}
		}
	}
	return nil
}

// TestStaleAnswerWhileAuthorityIsDown: once example.com's servers have
// gone dark and its answer has expired, the client still gets it, stale,
// with TTL 30 and EDE 3, before its own deadline; once they are back, a
// fresh answer.
func TestStaleAnswerWhileAuthorityIsDown(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab)
	const name = "www.example.com."
	first := askFull(t, s.addr, name, dns.TypeA)
	if first.Rcode != dns.RcodeSuccess || len(first.Answer) != 1 {
		t.Fatalf("first answer: %v", first)
	}
	if n := lab.SetDown("example.com.", true); n == 0 {
		t.Fatal("no example.com servers to take down")
	}
	t.Cleanup(func() { lab.SetDown("example.com.", false) })
	s.clock.Advance(time.Hour + time.Second) // the 3600 s answer has expired

	for i := range 2 {
		start := time.Now()
		reply := askFull(t, s.addr, name, dns.TypeA)
		took := time.Since(start)
		if took > 4500*time.Millisecond {
			t.Errorf("ask %d: answered after %v; the client's deadline is 4 s", i, took)
		}
		if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 || reply.Answer[0].String() != strings.Replace(first.Answer[0].String(), "3600", "30", 1) {
			t.Fatalf("ask %d: %v\nwant the first answer with TTL 30", i, reply)
		}
		if e := edeOf(reply); e == nil || e.InfoCode != dns.ExtendedErrorCodeStaleAnswer {
			t.Errorf("ask %d: EDE %v, want %d (Stale Answer)", i, e, dns.ExtendedErrorCodeStaleAnswer)
		}
		t.Logf("stale answer %d after %v", i, took.Round(time.Millisecond))
	}
	if st := s.resolver.Stats(); st.StaleAnswers != 2 {
		t.Errorf("resolver stats: %d stale answers, want 2", st.StaleAnswers)
	}

	// The authorities are back; after the 30 s recheck timer, a fresh answer.
	lab.SetDown("example.com.", false)
	s.clock.Advance(31 * time.Second)
	reply := askFull(t, s.addr, name, dns.TypeA)
	if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 || reply.Answer[0].Header().Ttl != 3600 || edeOf(reply) != nil {
		t.Errorf("after the outage: %v\nwant a fresh answer, TTL 3600, no EDE", reply)
	}
}

// TestNoStaleAnswerWithoutAStaleWindow: a cache that keeps nothing past
// its TTL (cache.stale_max_age 0) leaves an outage a SERVFAIL.
func TestNoStaleAnswerWithoutAStaleWindow(t *testing.T) {
	lab := startLab(t, 0)
	s := startStack(t, lab, withCache(t, cache.Options{}))
	const name = "www.example.com."
	if first := askFull(t, s.addr, name, dns.TypeA); first.Rcode != dns.RcodeSuccess {
		t.Fatalf("first answer: %v", first)
	}
	lab.SetDown("example.com.", true)
	t.Cleanup(func() { lab.SetDown("example.com.", false) })
	s.clock.Advance(time.Hour + time.Second)
	if reply := askFull(t, s.addr, name, dns.TypeA); reply.Rcode != dns.RcodeServerFailure {
		t.Errorf("during the outage: %v\nwant SERVFAIL", reply)
	}
}

// TestWarmRestartFromCacheFile: `rootwalk serve --cache-file F` writes its
// cache on SIGTERM and a new process loads it: its first answer to a
// question the old one had resolved comes from the cache.
func TestWarmRestartFromCacheFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rootwalk.cache")
	args := func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort), "--cache-file", file, "--log-queries"}
	}
	names := []string{"www.example.com.", "www.example.org.", "a.b.c.d.e.f.g.example.org."}

	old := startServe(t, args)
	if !strings.Contains(old.p.log(), "no cache file yet") {
		t.Errorf("first start did not say it started cold:\n%s", old.p.log())
	}
	want := map[string]string{}
	for _, n := range names {
		reply := askFull(t, old.addr, n, dns.TypeA)
		if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) == 0 {
			t.Fatalf("%s: %v", n, reply)
		}
		want[n] = answerText(reply)
	}
	if err := old.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !old.p.exited(15 * time.Second) {
		t.Fatal("old process did not stop")
	}
	if !strings.Contains(old.p.log(), "cache saved") {
		t.Fatalf("no cache saved:\n%s", old.p.log())
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		t.Fatalf("cache file: %v", err)
	}

	warm := startServe(t, args)
	if !strings.Contains(warm.p.log(), "cache loaded") {
		t.Fatalf("new process did not load the cache:\n%s", warm.p.log())
	}
	for _, n := range names {
		reply := askFull(t, warm.addr, n, dns.TypeA)
		if got := answerText(reply); got != want[n] {
			t.Errorf("%s after the restart: %s, want %s", n, got, want[n])
		}
		line := warm.p.waitFor(t, "qname="+n, 10*time.Second)
		if !strings.Contains(line, "cache=hit") {
			t.Errorf("%s after the restart was not a cache hit: %s", n, line)
		}
	}
}

// answerText is the answer section without TTLs, for comparing answers
// given at different times.
func answerText(m *dns.Msg) string {
	var b strings.Builder
	for _, rr := range m.Answer {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}
