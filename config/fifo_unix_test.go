//go:build unix

package config

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRootHintsFIFO checks that a FIFO is refused as root hints without
// being opened: opening one for reading blocks until a writer comes.
func TestRootHintsFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "named.root")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	err := loadErr(t, load{args: []string{"--root-hints", fifo}})
	want := `root_hints: "` + fifo + `" is not valid; want iana, lab, or the path of a readable named.root-format file (is not a regular file)`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got  %v\nwant prefix %s", err, want)
	}
}
