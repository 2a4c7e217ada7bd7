package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// syncBuffer is a bytes.Buffer that the command writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLabCommand runs `rootwalk lab` with args until its output holds want (or 30 s
// pass), stops it, and returns its stdout.
func startLabCommand(t *testing.T, want string, args ...string) string {
	t.Helper()
	t.Setenv("ROOTWALK_CONFIG", "")
	for attempt := range 5 {
		port := 20000 + int(time.Now().UnixNano()%10000) + attempt
		ctx, cancel := context.WithCancel(t.Context())
		var stdout, stderr syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, append([]string{"lab", "--lab-port", strconv.Itoa(port), "--log-level", "warn"}, args...), &stdout, &stderr)
		}()
		deadline := time.After(30 * time.Second)
	wait:
		for !strings.Contains(stdout.String(), want) {
			select {
			case code := <-done:
				cancel()
				t.Logf("attempt %d: exit %d: %s", attempt, code, stderr.String())
				break wait // most likely the port was taken: try another
			case <-deadline:
				cancel()
				t.Fatalf("no %q in 30 s; stdout:\n%s\nstderr:\n%s", want, stdout.String(), stderr.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
		if strings.Contains(stdout.String(), want) {
			cancel()
			if code := <-done; code != exitOK {
				t.Errorf("exit %d after the stop, want %d: %s", code, exitOK, stderr.String())
			}
			return stdout.String()
		}
	}
	t.Fatal("the lab did not start in 5 attempts")
	return ""
}

// rootDS checks that text holds exactly one record, a DS for the root.
func rootDS(t *testing.T, text string) {
	t.Helper()
	var ds []*dns.DS
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "anchor")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		d, isDS := rr.(*dns.DS)
		if !isDS || d.Hdr.Name != "." || d.DigestType != dns.SHA256 {
			t.Errorf("anchor record %v, want the root's SHA-256 DS", rr)
			continue
		}
		ds = append(ds, d)
	}
	if err := zp.Err(); err != nil || len(ds) != 1 {
		t.Errorf("anchor %q: %d DS records, error %v; want one", text, len(ds), err)
	}
}

func TestLabPrintsTrustAnchor(t *testing.T) {
	out := startLabCommand(t, " DS ")
	hints, anchor, ok := strings.Cut(out, "; End of file")
	if !ok || !strings.Contains(hints, "a.root-servers.net.") {
		t.Fatalf("stdout does not start with the hints:\n%s", out)
	}
	_, anchor, _ = strings.Cut(anchor, "\n")
	rootDS(t, anchor)
}

func TestLabAnchorOut(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lab.anchor")
	out := startLabCommand(t, "; End of file", "--anchor-out", file)
	if strings.Contains(out, " DS ") {
		t.Errorf("the anchor is on stdout too:\n%s", out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rootDS(t, string(data))
}
