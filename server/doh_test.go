package server

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// dohFixture is the DoH handler over a Handler that answers from
// answering(t, 1) with loopback allowed and 192.0.2.0/24 denied.
func dohFixture(t testing.TB, trusted ...netip.Prefix) http.Handler {
	t.Helper()
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: ACL{
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24")},
		Deny:  []netip.Prefix{netip.MustParsePrefix("192.0.2.66/32")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := &doh{h: h, trusted: trusted, log: h.log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+dohPath, d.serve)
	mux.HandleFunc("POST "+dohPath, d.serve)
	return mux
}

func packedQuery(t *testing.T, name string) []byte {
	t.Helper()
	q := new(dns.Msg).SetQuestion(name, dns.TypeA)
	q.Id = 0
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDoHGetAndPost(t *testing.T) {
	mux := dohFixture(t)
	wire := packedQuery(t, "www.example.com.")
	get := httptest.NewRequest(http.MethodGet, dohPath+"?dns="+base64.RawURLEncoding.EncodeToString(wire), nil)
	post := httptest.NewRequest(http.MethodPost, dohPath, bytes.NewReader(wire))
	post.Header.Set("Content-Type", dohMediaType)
	for _, req := range []*http.Request{get, post} {
		req.RemoteAddr = "127.0.0.1:40000"
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != dohMediaType {
			t.Fatalf("%s: %d %q: %s", req.Method, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		reply := new(dns.Msg)
		if err := reply.Unpack(w.Body.Bytes()); err != nil {
			t.Fatal(err)
		}
		if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 {
			t.Errorf("%s: reply %v", req.Method, reply)
		}
		if cc := w.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "max-age=") {
			t.Errorf("%s: Cache-Control %q, want max-age from the answer's TTL", req.Method, cc)
		}
	}
}

func TestDoHRefusesBadRequests(t *testing.T) {
	mux := dohFixture(t)
	wire := packedQuery(t, "www.example.com.")
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"GET without dns", httptest.NewRequest(http.MethodGet, dohPath, nil), http.StatusBadRequest},
		{"GET with bad base64", httptest.NewRequest(http.MethodGet, dohPath+"?dns=!!!", nil), http.StatusBadRequest},
		{"GET with garbage", httptest.NewRequest(http.MethodGet, dohPath+"?dns=AAAA", nil), http.StatusBadRequest},
		{"POST of another type", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, dohPath, bytes.NewReader(wire))
			r.Header.Set("Content-Type", "text/plain")
			return r
		}(), http.StatusUnsupportedMediaType},
		{"POST too long", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, dohPath, bytes.NewReader(make([]byte, maxQuerySize+1)))
			r.Header.Set("Content-Type", dohMediaType)
			return r
		}(), http.StatusRequestEntityTooLarge},
		{"PUT", httptest.NewRequest(http.MethodPut, dohPath, nil), http.StatusMethodNotAllowed},
	} {
		tc.req.RemoteAddr = "127.0.0.1:40000"
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, tc.req)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.want)
		}
	}
}

// TestDoHForwardedFor: X-Forwarded-For is believed from a trusted proxy
// only, so the ACL judges the real client behind it and a client cannot
// pick its own address.
func TestDoHForwardedFor(t *testing.T) {
	proxy := netip.MustParsePrefix("127.0.0.2/32")
	mux := dohFixture(t, proxy)
	rcode := func(peer, xff string) int {
		r := httptest.NewRequest(http.MethodGet, dohPath+"?dns="+base64.RawURLEncoding.EncodeToString(packedQuery(t, "www.example.com.")), nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		m := new(dns.Msg)
		if err := m.Unpack(w.Body.Bytes()); err != nil {
			t.Fatalf("%s via %s: %d %s", xff, peer, w.Code, w.Body)
		}
		return m.Rcode
	}
	if got := rcode("127.0.0.2:5000", "192.0.2.66"); got != dns.RcodeRefused {
		t.Errorf("a denied client behind the trusted proxy: %s, want REFUSED", dns.RcodeToString[got])
	}
	if got := rcode("127.0.0.2:5000", "192.0.2.66, 192.0.2.10"); got != dns.RcodeSuccess {
		t.Errorf("the last untrusted hop (an allowed client): %s, want NOERROR", dns.RcodeToString[got])
	}
	if got := rcode("127.0.0.1:5000", "192.0.2.66"); got != dns.RcodeSuccess {
		t.Errorf("X-Forwarded-For from an untrusted peer was believed: %s", dns.RcodeToString[got])
	}
}

func TestCacheControl(t *testing.T) {
	m := new(dns.Msg)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}}}
	m.Ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns.a."}}
	if got := cacheControl(m); got != "max-age=60" {
		t.Errorf("cacheControl = %q, want the smallest TTL", got)
	}
	m.Rcode = dns.RcodeServerFailure
	if got := cacheControl(m); got != "no-store" {
		t.Errorf("SERVFAIL: %q, want no-store", got)
	}
}

// FuzzDoHRequest feeds the DoH handler arbitrary POST bodies: it must
// answer each with an HTTP status, never panic.
func FuzzDoHRequest(f *testing.F) {
	q := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	q.SetEdns0(1232, true)
	wire, _ := q.Pack()
	f.Add(wire)
	f.Add([]byte{0, 0, 1, 0, 0, 1})
	mux := dohFixture(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, dohPath, bytes.NewReader(body))
		r.Header.Set("Content-Type", dohMediaType)
		r.RemoteAddr = "127.0.0.1:40000"
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code == 0 {
			t.Fatal("no status")
		}
	})
}
