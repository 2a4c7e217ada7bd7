package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{name: "version", args: []string{"version"}, wantCode: exitOK, wantStdout: "rootwalk "},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: exitUsage, wantStderr: []string{"frobnicate"}},
		{name: "unknown flag", args: []string{"serve", "--frob"}, wantCode: exitUsage, wantStderr: []string{"frob"}},
		{name: "stray argument", args: []string{"serve", "extra"}, wantCode: exitUsage, wantStderr: []string{"extra"}},
		{name: "bad values, one line each", args: []string{"serve", "--listen", "x", "--log-level", "loud"},
			wantCode: exitUsage, wantStderr: []string{"listen: \"x\"", "log.level: \"loud\""}},
		{name: "lab with a hints file", args: []string{"serve", "--lab", "--root-hints", "/nonexistent/named.root"},
			wantCode: exitUsage, wantStderr: []string{"root_hints"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ROOTWALK_CONFIG", "") // never read a rootwalk.yaml lying around
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout %q, want it to start with %q", stdout.String(), tc.wantStdout)
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}
