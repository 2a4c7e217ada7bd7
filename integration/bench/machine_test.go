package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// machine describes where and with what a benchmark ran.
type machine struct {
	date    string
	uname   string // uname -a
	cpu     string // the model name of /proc/cpuinfo
	cores   int
	dnsperf string // versions
	unbound string
	commit  string // of rootwalk, from git
}

// describeMachine gathers the machine's description. What cannot be read
// is "unknown": a report without it is still worth having.
func describeMachine(ctx context.Context, tools tools) machine {
	m := machine{date: time.Now().UTC().Format("2006-01-02 15:04 MST"), cores: runtime.NumCPU()}
	m.uname = firstLine(output(ctx, "uname", "-a"))
	m.cpu = cpuModel()
	// dnsperf -h prints its version after the usage, and exits non-zero.
	m.dnsperf = match(output(ctx, tools.dnsperf, "-h"), `Version (\S+)`)
	m.unbound = match(output(ctx, tools.unbound, "-V"), `Version (\S+)`)
	m.commit = commit(ctx)
	return m
}

// headline returns the description in two lines, for the terminal.
func (m machine) headline() string {
	return fmt.Sprintf("%s, %d cores; dnsperf %s, Unbound %s, rootwalk %s\n%s",
		m.cpu, m.cores, m.dnsperf, m.unbound, m.commit, m.uname)
}

// output runs name with args and returns what it printed, whether or not
// it succeeded.
func output(ctx context.Context, name string, args ...string) string {
	// The exit status is ignored on purpose: dnsperf -h exits 1 after
	// printing what is wanted, and a failure shows as "unknown" anyway.
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out)
}

// firstLine returns s's first line, or "unknown" if it is empty.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if line == "" {
		return "unknown"
	}
	return line
}

// match returns the first submatch of pattern in s, or "unknown".
func match(s, pattern string) string {
	if m := regexp.MustCompile(pattern).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return "unknown"
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer func() { _ = f.Close() }() // read-only; what was read is used
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// commit returns rootwalk's commit, with "+ uncommitted changes" if the
// work tree differs from it (results.md aside).
func commit(ctx context.Context) string {
	root := filepath.Join("..", "..")
	c := firstLine(output(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD"))
	if c == "unknown" || strings.Contains(c, " ") {
		return "unknown (no git)"
	}
	status := output(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--",
		".", ":(exclude)integration/bench/"+resultsFile)
	if strings.TrimSpace(status) != "" {
		c += " + uncommitted changes"
	}
	return c
}
