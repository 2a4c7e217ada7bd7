package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rootwalk/rootwalk/config"
)

// writeConfig writes a YAML config file into a temporary directory and
// returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rootwalk.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCheck(t *testing.T) {
	good := writeConfig(t, "listen: 127.0.0.1:5300\ncache:\n  size: 5000\n")
	bad := writeConfig(t, "cache:\n  size: -1\n")
	bad2 := writeConfig(t, "listen: localhost\ncache:\n  siz: 10\n  policy: fifo\n")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		// wantLines must each be a line of stderr.
		wantLines []string
	}{
		{name: "good file", args: []string{"--config", good}, wantCode: exitOK,
			wantStdout: "configuration OK (" + good + ")\n"},
		{name: "no file", args: []string{"--config", ""}, wantCode: exitOK,
			wantStdout: "configuration OK (no config file)\n"},
		{name: "good file, bad flag", args: []string{"--config", good, "--cache-size", "0"}, wantCode: exitUsage,
			wantLines: []string{`cache.size: "0" is not valid; want an integer of at least 1 (from --cache-size)`}},
		{name: "negative cache size", args: []string{"--config", bad}, wantCode: exitUsage,
			wantLines: []string{`cache.size: "-1" is not valid; want an integer of at least 1 (from ` + bad + ")"}},
		{name: "one line per problem", args: []string{"--config", bad2}, wantCode: exitUsage,
			wantLines: []string{
				`listen: "localhost" is not valid; want IP:PORT such as 127.0.0.1:53 (from ` + bad2 + ")",
				`cache.policy: "fifo" is not valid; want lru or 2q (from ` + bad2 + ")",
				`cache.siz: unknown setting; want cache.size (from ` + bad2 + ")",
			}},
		{name: "missing file", args: []string{"--config", "/nonexistent/rootwalk.yaml"}, wantCode: exitUsage,
			wantLines: []string{`config: cannot read "/nonexistent/rootwalk.yaml": no such file or directory (from --config)`}},
		{name: "stray argument", args: []string{"extra"}, wantCode: exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"config", "check"}, tc.args...)
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.wantCode, stderr.String())
			}
			if stdout.String() != tc.wantStdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.wantStdout)
			}
			lines := strings.Split(stderr.String(), "\n")
			for _, want := range tc.wantLines {
				if !slices.Contains(lines, want) {
					t.Errorf("stderr has no line\n%s\nstderr:\n%s", want, stderr.String())
				}
			}
		})
	}
}

// runConfigCommand runs "rootwalk config ARGS" with environ as its
// environment and returns its output and error.
func runConfigCommand(t *testing.T, environ []string, args ...string) (string, error) {
	t.Helper()
	cmd := newConfigCommandWith(func() []string { return environ })
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return stdout.String(), err
}

func TestConfigPrintSources(t *testing.T) {
	path := writeConfig(t, "cache:\n  size: 5000\n  memory: 64MiB\nacl:\n  deny: [10.9.0.0/16, 10.8.0.0/16]\nlog:\n  level: warn\n")
	environ := []string{"ROOTWALK_CACHE_MEMORY=32MiB", "ROOTWALK_LOG_LEVEL=error"}
	out, err := runConfigCommand(t, environ, "print", "--config", path, "--log-level", "debug", "--admin", "127.0.0.1:9999")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, want := range []string{
		"config = " + path + "  # flag --config",
		"listen = 127.0.0.1:53  # default",
		"acl.allow = [127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, 169.254.0.0/16, fe80::/10]  # default",
		"admin.token = \"\"  # default",
		"cache.size = 5000  # file " + path,
		"acl.deny = [10.9.0.0/16, 10.8.0.0/16]  # file " + path,
		"cache.memory = 32MiB  # env ROOTWALK_CACHE_MEMORY",
		"log.level = debug  # flag --log-level",
		"admin.listen = 127.0.0.1:9999  # flag --admin",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in:\n%s", want, out)
		}
	}
	// One line per setting, in the settings table's order.
	keys := config.Keys()
	if len(lines) != len(keys) {
		t.Fatalf("%d lines for %d settings:\n%s", len(lines), len(keys), out)
	}
	for i, k := range keys {
		if !strings.HasPrefix(lines[i], k+" = ") {
			t.Errorf("line %d is %q, want setting %s", i+1, lines[i], k)
		}
	}
}

func TestConfigPrintJSON(t *testing.T) {
	path := writeConfig(t, "cache:\n  size: 5000\n")
	environ := []string{"ROOTWALK_ACL_DENY=10.9.0.0/16,10.8.0.0/16"}
	out, err := runConfigCommand(t, environ, "print", "--json", "--config", path, "--log-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Key    string `json:"key"`
		Value  any    `json:"value"`
		Source string `json:"source"`
		From   string `json:"from"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	keys := config.Keys()
	if len(got) != len(keys) {
		t.Fatalf("%d settings, want %d", len(got), len(keys))
	}
	byKey := map[string]int{}
	for i, e := range got {
		if e.Key != keys[i] {
			t.Errorf("setting %d is %s, want %s", i, e.Key, keys[i])
		}
		byKey[e.Key] = i
	}
	tests := []struct {
		key, source, from string
		value             any
	}{
		{"listen", "default", "", "127.0.0.1:53"},
		{"cache.size", "file", path, "5000"},
		{"acl.deny", "env", "ROOTWALK_ACL_DENY", []any{"10.9.0.0/16", "10.8.0.0/16"}},
		{"forward_zones", "default", "", []any{}},
		{"log.format", "flag", "--log-format", "json"},
	}
	for _, tc := range tests {
		e := got[byKey[tc.key]]
		if e.Source != tc.source || e.From != tc.from || !reflect.DeepEqual(e.Value, tc.value) {
			t.Errorf("%s: got %+v, want value %v from %s %s", tc.key, e, tc.value, tc.source, tc.from)
		}
	}
}

func TestConfigPrintHidesSecrets(t *testing.T) {
	const (
		token    = "tok-3c1f"
		seed     = "seed-9e2b"
		cookie   = "0123456789abcdef0123456789abcdef"
		password = "pw-77aa"
	)
	path := writeConfig(t, "cache:\n  redis:\n    seed: "+seed+"\n")
	environ := []string{
		"ROOTWALK_ADMIN_TOKEN=" + token,
		"ROOTWALK_CACHE_REDIS_ADDR=redis://fleet:" + password + "@127.0.0.1:6379/0",
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"print", "--config", path, "--server-cookie-secret", cookie}
			if format == "json" {
				args = append(args, "--json")
			}
			out, err := runConfigCommand(t, environ, args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{token, seed, cookie, password} {
				if strings.Contains(out, secret) {
					t.Errorf("the output shows the secret %q:\n%s", secret, out)
				}
			}
			if n := strings.Count(out, hidden); n != 4 {
				t.Errorf("%q appears %d times, want 4 (token, seed, cookie secret, Redis password):\n%s", hidden, n, out)
			}
			if !strings.Contains(out, "redis://fleet:(set, hidden)@127.0.0.1:6379/0") {
				t.Errorf("the Redis address is not shown with its password hidden:\n%s", out)
			}
		})
	}
}

func TestHideURLPassword(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"127.0.0.1:6379", "127.0.0.1:6379"},
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://user@127.0.0.1:6379", "redis://user@127.0.0.1:6379"},
		{"redis://user:pw@127.0.0.1:6379/2", "redis://user:(set, hidden)@127.0.0.1:6379/2"},
		{"rediss://:pw@cache.example:6380", "rediss://:(set, hidden)@cache.example:6380"},
		{"redis://us%20er:p%40ss@127.0.0.1:6379", "redis://us%20er:(set, hidden)@127.0.0.1:6379"},
		{"redis://user:p w%zz@127.0.0.1", hidden}, // does not parse
	}
	for _, tc := range tests {
		if got := hideURLPassword(tc.in); got != tc.want {
			t.Errorf("hideURLPassword(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestConfigPrintBadConfiguration(t *testing.T) {
	path := writeConfig(t, "cache:\n  size: -1\n")
	out, err := runConfigCommand(t, nil, "print", "--config", path)
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "cache.size") {
		t.Errorf("got error %v, want a usage error naming cache.size", err)
	}
	if out != "" {
		t.Errorf("printed settings of a configuration that does not load:\n%s", out)
	}
	_, err = runConfigCommand(t, []string{"ROOTWALK_CACHE_SIZ=1"}, "print", "--config", "")
	if err == nil || !strings.Contains(err.Error(), "ROOTWALK_CACHE_SIZ: unknown setting") {
		t.Errorf("got error %v, want the unknown variable named", err)
	}
}

func TestConfigNeedsCommand(t *testing.T) {
	for _, args := range [][]string{{"config"}, {"config", "frob"}} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\nstderr: %s", args, code, exitUsage, stderr.String())
		}
	}
}
