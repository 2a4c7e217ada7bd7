package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopTimeout bounds how long a process may take to exit after SIGTERM
// before it is killed.
const stopTimeout = 15 * time.Second

// maxOutput is how much of a process's output is kept for diagnosis.
const maxOutput = 64 << 10

// process is a program started by the benchmark. t.Cleanup stops it by its
// pid: SIGTERM, then SIGKILL if it has not exited within stopTimeout.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *cappedBuffer
	done chan struct{}
	err  error // from Wait, once done is closed
}

// startProcess runs path with args in dir, with env as its whole
// environment, and stops it when the test ends.
func startProcess(t *testing.T, dir string, env []string, path string, args ...string) *process {
	t.Helper()
	p := &process{name: path, cmd: exec.Command(path, args...), out: &cappedBuffer{max: maxOutput}, done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("stop %s (pid %d): %v", path, p.pid(), err)
		}
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			// Kill fails only if it has just exited, which done then shows.
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("%s (pid %d) did not stop within %v of SIGTERM; killed", path, p.pid(), stopTimeout)
		}
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", path, strings.Join(args, " "), p.out)
		}
	})
	return p
}

// pid returns the process's id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// cpuTicks returns the CPU time, user plus system, that the process (all
// its threads) has used so far, in clock ticks.
func (p *process) cpuTicks() (uint64, error) {
	file := fmt.Sprintf("/proc/%d/stat", p.pid())
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read CPU time of %s: %w", p.name, err)
	}
	ticks, err := parseProcStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of %s from %s: %w", p.name, file, err)
	}
	return ticks, nil
}

// parseProcStat returns utime+stime, in clock ticks, from the text of
// /proc/PID/stat (proc(5)): fields 14 and 15, counted from the pid, where
// field 2, the command name in parentheses, may itself hold spaces and
// parentheses, so the fields are counted from the last ')'.
func parseProcStat(stat string) (uint64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse /proc stat %.40q: no ')' after the command name", stat)
	}
	fields := strings.Fields(stat[end+1:]) // fields[0] is field 3, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("parse /proc stat %.40q: %d fields after the command name, want at least %d", stat, len(fields), stime+1)
	}
	u, err := strconv.ParseUint(fields[utime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc stat utime: %w", err)
	}
	s, err := strconv.ParseUint(fields[stime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc stat stime: %w", err)
	}
	return u + s, nil
}

// clockTick returns the length of the clock tick /proc/PID/stat counts in,
// from `getconf CLK_TCK` (normally 100 a second).
func clockTick(ctx context.Context) (time.Duration, error) {
	out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output()
	if err != nil {
		return 0, fmt.Errorf("getconf CLK_TCK: %w", err)
	}
	hz, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || hz <= 0 {
		return 0, fmt.Errorf("getconf CLK_TCK printed %q: want a positive number", out)
	}
	return time.Second / time.Duration(hz), nil
}

// childEnv returns this process's environment without any ROOTWALK_
// variable, so that rootwalk runs with the benchmark's flags only, plus
// extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROOTWALK_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cappedBuffer keeps the first max bytes written to it and counts the
// rest. It is safe for concurrent use.
type cappedBuffer struct {
	mu      sync.Mutex
	max     int
	buf     bytes.Buffer
	dropped int
}

// Write implements io.Writer; it never fails.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(len(p), b.max-b.buf.Len())
	b.buf.Write(p[:keep])
	b.dropped += len(p) - keep
	return len(p), nil
}

// String returns what was kept, and how much was not.
func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("%s\n[%d more bytes not kept]", b.buf.String(), b.dropped)
	}
	return b.buf.String()
}
