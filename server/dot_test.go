package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// transportTestHandler returns a Handler answering every question, allowing
// loopback and 192.0.2.0/24 but 192.0.2.66.
func transportTestHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: ACL{
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24")},
		Deny:  []netip.Prefix{netip.MustParsePrefix("192.0.2.66/32")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestDoTPipelinesOnOneConnection: a DNS-over-TLS client negotiates TLS
// 1.3 and "dot", sends several queries at once on one connection, gets a
// reply to each, and then goes on using the connection (RFC 7858, 7766).
func TestDoTPipelinesOnOneConnection(t *testing.T) {
	srvTLS, cliTLS := testTLS(t, "dot")
	l, err := ListenTLS(netip.MustParseAddrPort("127.0.0.1:0"), transportTestHandler(t), srvTLS, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	conn, err := tls.Dial("tcp", l.Addr().String(), cliTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }() // test client
	if st := conn.ConnectionState(); st.Version != tls.VersionTLS13 || st.NegotiatedProtocol != "dot" {
		t.Errorf("TLS %x, ALPN %q; want TLS 1.3 and dot", st.Version, st.NegotiatedProtocol)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a hung test fails, not hangs
	frames := func(ids ...uint16) []byte {
		var b []byte
		for _, id := range ids {
			q := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
			q.Id = id
			wire, err := q.Pack()
			if err != nil {
				t.Fatal(err)
			}
			b = append(binary.BigEndian.AppendUint16(b, uint16(len(wire))), wire...)
		}
		return b
	}
	read := func(n int) []uint16 {
		var ids []uint16
		for range n {
			var size [2]byte
			if _, err := io.ReadFull(conn, size[:]); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, binary.BigEndian.Uint16(size[:]))
			if _, err := io.ReadFull(conn, b); err != nil {
				t.Fatal(err)
			}
			m := new(dns.Msg)
			if err := m.Unpack(b); err != nil || m.Rcode != dns.RcodeSuccess {
				t.Fatalf("reply %v, %v", m, err)
			}
			ids = append(ids, m.Id)
		}
		slices.Sort(ids)
		return ids
	}
	if _, err := conn.Write(frames(1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if ids := read(3); !slices.Equal(ids, []uint16{1, 2, 3}) {
		t.Errorf("pipelined replies %v, want 1 2 3", ids)
	}
	if _, err := conn.Write(frames(4)); err != nil {
		t.Fatal(err)
	}
	if ids := read(1); !slices.Equal(ids, []uint16{4}) {
		t.Errorf("the reused connection answered %v, want 4", ids)
	}
}

// TestDoHBehindProxy: the plain HTTP listener, for a reverse proxy,
// judges the client the proxy names in X-Forwarded-For.
func TestDoHBehindProxy(t *testing.T) {
	l, err := ListenHTTP(netip.MustParseAddrPort("127.0.0.1:0"), transportTestHandler(t),
		DoHOptions{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	rcode := func(xff string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+l.Addr().String()+dohPath,
			bytes.NewReader(packedQuery(t, "www.example.com.")))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", dohMediaType)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }() // read in full below
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("status %s: %v", resp.Status, err)
		}
		return m.Rcode
	}
	if got := rcode(""); got != dns.RcodeSuccess {
		t.Errorf("the proxy itself: %s, want NOERROR", dns.RcodeToString[got])
	}
	if got := rcode("192.0.2.66"); got != dns.RcodeRefused {
		t.Errorf("a denied client behind the proxy: %s, want REFUSED", dns.RcodeToString[got])
	}
}
