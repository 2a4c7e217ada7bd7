package integration

import (
	"github.com/rootwalk/rootwalk/internal/dnstest"

	"context"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Where make install puts things under DESTDIR, with the default PREFIX.
const (
	installedBin    = "usr/local/bin/rootwalk"
	installedUnit   = "etc/systemd/system/rootwalk.service"
	installedConfig = "etc/rootwalk/rootwalk.yaml"
)

// makeInstall runs `make install` from the repository root with DESTDIR
// dest, building into a temporary directory rather than the work tree.
func makeInstall(t *testing.T, dest string, vars ...string) string {
	t.Helper()
	makePath := dnstest.Program(t, "make")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	args := append([]string{"--no-print-directory", "install", "DESTDIR=" + dest, "BIN=" + filepath.Join(t.TempDir(), "rootwalk")}, vars...)
	cmd := exec.CommandContext(ctx, makePath, args...)
	cmd.Dir = ".."
	// A make test above this one must not hand its jobserver down.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return name == "MAKEFLAGS" || name == "MFLAGS" || name == "MAKELEVEL"
	})
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestMakeInstall lays rootwalk out with make install DESTDIR=tmp: the
// binary, the unit (which systemd-analyze verify accepts) and the example
// config, with their modes; the binary and config work; and a second
// install keeps a config the operator edited.
func TestMakeInstall(t *testing.T) {
	dest := t.TempDir()
	makeInstall(t, dest)

	t.Run("files and modes", func(t *testing.T) {
		for _, f := range []struct {
			path string
			mode fs.FileMode
		}{
			{installedBin, 0o755},
			{installedUnit, 0o644},
			{installedConfig, 0o644},
		} {
			fi, err := os.Stat(filepath.Join(dest, f.path))
			if err != nil {
				t.Errorf("not installed: %v", err)
				continue
			}
			if !fi.Mode().IsRegular() || fi.Mode().Perm() != f.mode {
				t.Errorf("%s: mode %v, want a regular file with %v", f.path, fi.Mode(), f.mode)
			}
		}
		unit := readFile(t, filepath.Join(dest, installedUnit))
		want := "ExecStart=/usr/local/bin/rootwalk serve --config /etc/rootwalk/rootwalk.yaml"
		if !slices.Contains(strings.Split(unit, "\n"), want) {
			t.Errorf("the installed unit has no line %q:\n%s", want, unit)
		}
		if example := readFile(t, "../deploy/rootwalk.example.yaml"); readFile(t, filepath.Join(dest, installedConfig)) != example {
			t.Error("the installed config is not deploy/rootwalk.example.yaml")
		}
	})

	bin := filepath.Join(dest, installedBin)
	t.Run("binary runs", func(t *testing.T) {
		out, err := runCommand(t.Context(), bin, "version")
		if err != nil || !strings.HasPrefix(out, "rootwalk ") {
			t.Errorf("installed rootwalk version: %q, %v", out, err)
		}
		config := filepath.Join(dest, installedConfig)
		out, err = runCommand(t.Context(), bin, "config", "check", "--config", config)
		if err != nil || out != "configuration OK ("+config+")\n" {
			t.Errorf("installed rootwalk config check of the installed config: %q, %v", out, err)
		}
	})

	t.Run("systemd-analyze verify", func(t *testing.T) {
		verifyUnit(t, dest)
	})

	t.Run("second install keeps the config", func(t *testing.T) {
		config := filepath.Join(dest, installedConfig)
		edited := "# the operator's own\nlisten: 127.0.0.1:5353\n"
		if err := os.WriteFile(config, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(config, 0o600); err != nil { // WriteFile keeps an existing file's mode
			t.Fatal(err)
		}
		out := makeInstall(t, dest, "PREFIX=/opt/rootwalk")
		if got := readFile(t, config); got != edited {
			t.Errorf("make install overwrote the edited config:\n%s\nmake said:\n%s", got, out)
		}
		if fi, err := os.Stat(config); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("the kept config's mode changed from 0600 to %v", fi.Mode().Perm())
		}
		if _, err := os.Stat(filepath.Join(dest, "opt/rootwalk/bin/rootwalk")); err != nil {
			t.Errorf("PREFIX=/opt/rootwalk: binary not installed: %v", err)
		}
		unit := readFile(t, filepath.Join(dest, installedUnit))
		if !strings.Contains(unit, "\nExecStart=/opt/rootwalk/bin/rootwalk serve ") {
			t.Errorf("ExecStart does not follow PREFIX=/opt/rootwalk:\n%s", unit)
		}
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// verifyUnit runs systemd-analyze verify on the unit installed under dest.
// verify checks that ExecStart's program exists, and --root= would need a
// whole system under dest (sysinit.target, /bin/kill), so the unit is
// checked as a copy whose ExecStart names the binary installed in dest.
func verifyUnit(t *testing.T, dest string) {
	t.Helper()
	analyze := dnstest.Program(t, "systemd-analyze")
	unit := readFile(t, filepath.Join(dest, installedUnit))
	copied := strings.ReplaceAll(unit, "ExecStart=/usr/local/bin/rootwalk ", "ExecStart="+filepath.Join(dest, installedBin)+" ")
	if copied == unit {
		t.Fatalf("no ExecStart=/usr/local/bin/rootwalk in the installed unit:\n%s", unit)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "rootwalk.service")
	if err := os.WriteFile(path, []byte(copied), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := analyzeVerify(t, analyze, path)
	if err != nil {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "rootwalk") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}

	// The same check must see a mistake, or it proves nothing.
	broken := filepath.Join(dir, "broken", "rootwalk.service")
	if err := os.Mkdir(filepath.Dir(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte(strings.Replace(copied, "Type=notify", "Type=notfy", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := analyzeVerify(t, analyze, broken); !strings.Contains(out, "notfy") {
		t.Errorf("systemd-analyze verify did not report Type=notfy:\n%s", out)
	}
}

func analyzeVerify(t *testing.T, analyze, path string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", path).CombinedOutput()
	return string(out), err
}

// TestUnitHardening: the unit keeps the directives that make rootwalk a
// notify service with a made-up user, port 53 and nothing else.
func TestUnitHardening(t *testing.T) {
	set := map[string][]string{}
	for line := range strings.Lines(readFile(t, "../deploy/systemd/rootwalk.service")) {
		key, value, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		if ok && !strings.HasPrefix(key, "#") {
			set[key] = append(set[key], value)
		}
	}
	for key, want := range map[string]string{
		"Type":                    "notify",
		"ExecStart":               "/usr/local/bin/rootwalk serve --config /etc/rootwalk/rootwalk.yaml",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"DynamicUser":             "yes",
		"AmbientCapabilities":     "CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"ProtectClock":            "yes",
		"ProtectHostname":         "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"RestrictNamespaces":      "yes",
		"RestrictRealtime":        "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"SystemCallArchitectures": "native",
		"SystemCallFilter":        "@system-service",
		"StateDirectory":          "rootwalk",
		"ConfigurationDirectory":  "rootwalk",
		"Restart":                 "on-failure",
	} {
		if !slices.Contains(set[key], want) {
			t.Errorf("%s=%s missing (the unit has %q)", key, want, set[key])
		}
	}
	if n, err := strconv.Atoi(strings.Join(set["LimitNOFILE"], "")); err != nil || n < 4096 {
		t.Errorf("LimitNOFILE=%q, want one number of at least 4096", set["LimitNOFILE"])
	}
}

// TestServeNotifiesSystemd: under systemd (a NOTIFY_SOCKET), serve sends
// READY=1 once it listens and STOPPING=1 when told to stop.
func TestServeNotifiesSystemd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // nothing to do if it fails at the end
	t.Setenv("NOTIFY_SOCKET", path)        // inherited by the rootwalk started below
	s := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort)}
	})
	// Only the last attempt's process is running; earlier ones that could
	// not bind the lab's port never became ready.
	if got := readNotification(t, conn); !slices.Contains(got, "READY=1") {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if err := s.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := readNotification(t, conn); !slices.Contains(got, "STOPPING=1") {
		t.Errorf("notification after SIGTERM %q, want STOPPING=1", got)
	}
	if !s.p.exited(15 * time.Second) {
		t.Error("still running 15 s after SIGTERM")
	}
}

// readNotification returns the lines of the next datagram on conn.
func readNotification(t *testing.T, conn *net.UnixConn) []string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return strings.Split(string(buf[:n]), "\n")
}
