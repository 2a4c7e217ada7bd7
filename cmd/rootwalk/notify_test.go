package main

import (
	"bytes"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeNotifySocket is systemd's side of sd_notify: a unixgram socket named
// by NOTIFY_SOCKET for the rest of the test.
func fakeNotifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen on a fake notify socket: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // nothing to do if it fails at the end
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

// readNotification returns the lines of the next datagram on conn.
func readNotification(t *testing.T, conn *net.UnixConn) []string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return strings.Split(string(buf[:n]), "\n")
}

func TestNotifyReadyAndStopping(t *testing.T) {
	conn := fakeNotifySocket(t)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))

	notifyReady(log)
	got := readNotification(t, conn)
	if !slices.Contains(got, "READY=1") || !slices.Contains(got, readyStatus) {
		t.Errorf("ready notification %q, want READY=1 and %q", got, readyStatus)
	}

	notifyStopping(log)
	if got := readNotification(t, conn); !slices.Equal(got, []string{"STOPPING=1"}) {
		t.Errorf("stopping notification %q, want STOPPING=1", got)
	}
}

func TestNotifyWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	notifyReady(log)
	notifyStopping(log)
	if logs.Len() != 0 {
		t.Errorf("logged without NOTIFY_SOCKET:\n%s", logs.String())
	}
}

func TestNotifyFailureIsLogged(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody-listens"))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	notifyReady(log) // must neither panic nor stop anything
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "READY=1") {
		t.Errorf("want a warning naming READY=1, got:\n%s", logs.String())
	}
}
