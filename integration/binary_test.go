package integration

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

var digStatus = regexp.MustCompile(`status: ([A-Z]+)`)

// dig asks addr with the real dig, as a user would, and returns the rcode
// and the answer section.
func dig(t *testing.T, digPath string, addr string, port uint16, name string, qtype uint16) (int, []dns.RR) {
	t.Helper()
	return toolAsk(t, digPath, []string{"@" + addr, "-p", strconv.Itoa(int(port)), "+time=5", "+tries=1", "+noall", "+comments", "+answer"}, name, qtype)
}

// TestDigAgainstServe runs the real binary as `make run` does (serve
// --lab) and asks it every lab case with the real dig.
func TestDigAgainstServe(t *testing.T) {
	digPath := dnstest.Program(t, "dig")
	addr := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort)}
	}).addr
	for _, c := range labCases {
		t.Run(c.name, func(t *testing.T) {
			rcode, answer := dig(t, digPath, addr.Addr().String(), addr.Port(), c.qname, c.qtype)
			if rcode != c.rcode {
				t.Errorf("status %s, want %s", dns.RcodeToString[rcode], dns.RcodeToString[c.rcode])
			}
			if got, want := dnstest.Set(answer), dnstest.Set(dnstest.RRs(t, c.answer...)); !slices.Equal(got, want) {
				t.Errorf("answer\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestServeWithHintsFile: a lab started with `rootwalk lab` in one process,
// its printed hints saved to a file, and `rootwalk serve --root-hints FILE
// --upstream-port PORT` in another resolves against it.
func TestServeWithHintsFile(t *testing.T) {
	var (
		hints string
		port  int
	)
	for attempt := 0; hints == ""; attempt++ {
		if attempt == 5 {
			t.Fatal("the lab did not start in 5 attempts")
		}
		port = labPort()
		lab := startProcess(t, true, rootwalkBin, "lab", "--lab-port", strconv.Itoa(port))
		var b strings.Builder
		for {
			line, ok := nextLine(lab, 20*time.Second)
			if !ok {
				break // exited: most likely the port was taken
			}
			if !strings.HasPrefix(line, "time=") { // stdout's hints, not stderr's log
				b.WriteString(line + "\n")
			}
			if strings.HasPrefix(line, "; End of file") {
				hints = b.String()
				break
			}
		}
	}
	file := filepath.Join(t.TempDir(), "lab.root")
	if err := os.WriteFile(file, []byte(hints), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startServe(t, func(int) []string {
		return []string{"--root-hints", file, "--upstream-port", strconv.Itoa(port)}
	}).addr
	for _, c := range labCases {
		if c.rcode == dns.RcodeServerFailure {
			continue // covered elsewhere; slow to fail
		}
		t.Run(c.name, func(t *testing.T) {
			reply := askFull(t, addr, c.qname, c.qtype)
			if reply.Rcode != c.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[reply.Rcode], dns.RcodeToString[c.rcode])
			}
			if got, want := dnstest.Set(reply.Answer), dnstest.Set(dnstest.RRs(t, c.answer...)); !slices.Equal(got, want) {
				t.Errorf("answer\n got %q\nwant %q", got, want)
			}
		})
	}
}

// nextLine returns the process's next output line, or false if it exited
// or said nothing for d.
func nextLine(p *process, d time.Duration) (string, bool) {
	select {
	case line := <-p.lines:
		return line, true
	case <-p.done:
		return "", false
	case <-time.After(d):
		return "", false
	}
}

// TestBadConfigurationExits2: bad values are refused at start with exit
// status 2 and one line per problem naming the key.
func TestBadConfigurationExits2(t *testing.T) {
	tests := []struct {
		args     []string
		wantKeys []string
	}{
		{[]string{"serve", "--listen", "nonsense"}, []string{"listen"}},
		{[]string{"serve", "--cache-size", "-3", "--root-hints", "/does/not/exist"}, []string{"cache.size", "root_hints"}},
		{[]string{"serve", "--lab", "--root-hints", "/etc/hostname"}, []string{"root_hints"}},
		{[]string{"serve", "--no-such-flag"}, []string{"no-such-flag"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			out, err := runCommand(ctx, rootwalkBin, tc.args...)
			if err == nil || !strings.Contains(err.Error(), "exited 2") {
				t.Fatalf("got %v, want exit status 2\n%s", err, out)
			}
			for _, key := range tc.wantKeys {
				if !strings.Contains(out, key) {
					t.Errorf("output does not name %q:\n%s", key, out)
				}
			}
		})
	}
}

// TestServeShutsDownOnSignal: SIGTERM ends serve cleanly with status 0
// (checked by startProcess's cleanup), and it logs that it is stopping.
func TestServeShutsDownOnSignal(t *testing.T) {
	p := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort)}
	}).p
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if !p.exited(15 * time.Second) {
		t.Fatal("still running 15 s after SIGINT")
	}
	if p.err != nil {
		t.Errorf("exit after SIGINT: %v", p.err)
	}
	if !strings.Contains(p.log(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", p.log())
	}
}

func TestVersion(t *testing.T) {
	out, err := runCommand(t.Context(), rootwalkBin, "version")
	if err != nil || !strings.HasPrefix(out, "rootwalk ") {
		t.Errorf("version: %q, %v", out, err)
	}
}
