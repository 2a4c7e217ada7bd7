package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// rootwalkBin is the binary built for the tests that run it as a user would.
var rootwalkBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rootwalk-integration")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rootwalkBin = filepath.Join(dir, "rootwalk")
	build := exec.Command("go", "build", "-race", "-o", rootwalkBin, "github.com/rootwalk/rootwalk/cmd/rootwalk")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build rootwalk:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "remove test binary:", err)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}
