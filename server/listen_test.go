package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestListenServesUDPAndTCP(t *testing.T) {
	h := newTestHandler(t, answering(t, 30), nil)
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if l.Addr().Port() == 0 {
		t.Fatal("no port bound")
	}
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 5 * time.Second}
		reply, _, err := c.Exchange(newQuery("www.example.com.", dns.TypeTXT, 1232), l.Addr().String())
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		wantTC := network == "udp"
		if reply.Truncated != wantTC || (!wantTC && len(reply.Answer) != 30) {
			t.Errorf("%s: TC %v with %d records", network, reply.Truncated, len(reply.Answer))
		}
	}
}

func TestListenReportsBusyAddress(t *testing.T) {
	h := newTestHandler(t, answering(t, 1), nil)
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if l2, err := Listen(l.Addr(), h, nil); err == nil {
		_ = l2.Shutdown(context.Background()) // the test has failed already
		t.Fatal("second Listen on a busy address succeeded")
	}
}

func TestListenerRecoversPanics(t *testing.T) {
	var logs syncBuffer
	l := startListener(t, newEchoHandler(), ListenOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	// UDP: the panicking query gets no reply, the next one does.
	uc, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	for _, m := range []*dns.Msg{query("boom.example.", 1), query("fast.example.", 2)} {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := uc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	_ = uc.SetReadDeadline(time.Now().Add(testBound))
	buf := make([]byte, 512)
	n, err := uc.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	reply := new(dns.Msg)
	if err := reply.Unpack(buf[:n]); err != nil || reply.Id != 2 {
		t.Fatalf("UDP reply %v (%v), want the reply to ID 2", reply, err)
	}
	pollUntil(t, "1 panic counted", func() bool { return l.Stats().Panics == 1 })

	// TCP: the connection of the panicking query is dropped; a new one
	// is served.
	c := dialTCP(t, l, "")
	writeAll(t, c, frame(t, query("boom.example.", 3)))
	waitClosed(t, c)
	c = dialTCP(t, l, "")
	writeAll(t, c, frame(t, query("fast.example.", 4)))
	if got := readReply(t, c).Id; got != 4 {
		t.Fatalf("reply ID %d, want 4", got)
	}
	if got := l.Stats().Panics; got != 2 {
		t.Errorf("%d panics counted, want 2", got)
	}
	if got := strings.Count(logs.String(), "level=ERROR msg=\"panic below the listener"); got != 2 {
		t.Errorf("%d panic lines logged, want 2:\n%s", got, logs.String())
	}
}

func TestTCPShutdown(t *testing.T) {
	t.Run("answers the queries in flight", func(t *testing.T) {
		h := newEchoHandler()
		l, err := ListenWith(netip.MustParseAddrPort("127.0.0.1:0"), h, ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := dialTCP(t, l, "")
		writeAll(t, c, frame(t, query("slow.example.", 1)))
		idle := dialTCP(t, l, "")
		writeAll(t, idle, frame(t, query("fast.example.", 2)))
		readReply(t, idle)
		<-h.slowIn

		done := make(chan error, 1)
		go func() { done <- l.Shutdown(context.Background()) }()
		waitClosed(t, idle) // the idle connection goes at once
		close(h.release)
		if got := readReply(t, c).Id; got != 1 {
			t.Errorf("reply ID %d, want 1", got)
		}
		waitClosed(t, c)
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	t.Run("gives up when its context ends", func(t *testing.T) {
		h := newEchoHandler()
		l, err := ListenWith(netip.MustParseAddrPort("127.0.0.1:0"), h, ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := dialTCP(t, l, "")
		writeAll(t, c, frame(t, query("slow.example.", 1)))
		<-h.slowIn
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Shutdown(ctx) }()
		cancel()
		waitClosed(t, c) // closed without its reply
		close(h.release) // the handler returns; Shutdown waits for it
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("shutdown: %v, want context.Canceled", err)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
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

func TestListenerStatsInMetrics(t *testing.T) {
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		_ = w.WriteMsg(m) // the client may be gone
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Shutdown(context.Background()) //nolint:errcheck // the test is over
	a := NewAdmin(AdminOptions{Listener: l})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Host = "127.0.0.1"
	a.Handler().ServeHTTP(rec, req)
	for _, want := range []string{"rootwalk_panics_total 0", "rootwalk_tcp_connections 0", "rootwalk_tcp_refused_total 0", "rootwalk_tcp_timeouts_total 0"} {
		if !strings.Contains(rec.Body.String(), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
