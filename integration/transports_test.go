package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// tlsServe is a `rootwalk serve --lab` with every encrypted listener on,
// and the certificate `rootwalk cert` made for it.
type tlsServe struct {
	served
	dot, doh, doq netip.AddrPort
	cert          string // PEM file
}

// startTLSServe makes a certificate with `rootwalk cert` and starts serve
// with it on DoT, DoH and DoQ, plus extra arguments.
func startTLSServe(t *testing.T, extra ...string) tlsServe {
	t.Helper()
	dir := t.TempDir()
	s := tlsServe{cert: filepath.Join(dir, "rootwalk.crt")}
	key := filepath.Join(dir, "rootwalk.key")
	if out, err := runCommand(t.Context(), rootwalkBin, "cert", "--cert-out", s.cert, "--key-out", key); err != nil {
		t.Fatalf("rootwalk cert: %v\n%s", err, out)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	s.dot, s.doh, s.doq = dnstest.FreeAddr(t), dnstest.FreeAddr(t), dnstest.FreeAddr(t)
	s.served = startServe(t, func(labPort int) []string {
		return append([]string{"--lab", "--lab-port", strconv.Itoa(labPort),
			"--dot-listen", s.dot.String(), "--doh-listen", s.doh.String(), "--doq-listen", s.doq.String(),
			"--tls-cert-file", s.cert, "--tls-key-file", key}, extra...)
	})
	return s
}

// toolAsk asks with dig or kdig (args choose the transport) and returns
// the rcode and answer section it printed.
func toolAsk(t *testing.T, tool string, args []string, name string, qtype uint16) (int, []dns.RR) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := runCommand(ctx, tool, append(args, name, dns.TypeToString[qtype])...)
	if err != nil {
		t.Fatalf("%s %s: %v", tool, strings.Join(args, " "), err)
	}
	m := digStatus.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no status in the output of %s %s:\n%s", tool, strings.Join(args, " "), out)
	}
	rcode, ok := dns.StringToRcode[m[1]]
	if !ok {
		t.Fatalf("unknown status %q", m[1])
	}
	var answer []dns.RR
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("%s answer line %q: %v", tool, line, err)
		}
		answer = append(answer, rr)
	}
	return rcode, answer
}

// doqAsk asks addr over DNS over QUIC (RFC 9250), trusting only cert,
// and returns the reply.
func doqAsk(t *testing.T, addr netip.AddrPort, cert, name string, qtype uint16) *dns.Msg {
	t.Helper()
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in " + cert)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr.String(), &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"doq"}}, nil)
	if err != nil {
		t.Fatalf("dial dns-over-quic %v: %v", addr, err)
	}
	defer func() { _ = conn.CloseWithError(0, "") }() // DOQ_NO_ERROR: done
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := new(dns.Msg).SetQuestion(name, qtype)
	q.Id = 0 // RFC 9250 section 4.2.1
	q.SetEdns0(4096, false)
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(wire))), wire...)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // FIN: the query is whole
	var n [2]byte
	if _, err := io.ReadFull(s, n[:]); err != nil {
		t.Fatalf("dns-over-quic reply length: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(s, b); err != nil {
		t.Fatalf("dns-over-quic reply: %v", err)
	}
	reply := new(dns.Msg)
	if err := reply.Unpack(b); err != nil {
		t.Fatal(err)
	}
	if reply.Id != 0 {
		t.Errorf("dns-over-quic reply ID %d, want 0", reply.Id)
	}
	return reply
}

// encryptedClients are the real clients of each encrypted transport
// (kdig from knot-dnsutils, dig from BIND 9.18) and a Go DoQ client, each
// verifying the certificate, as askers returning rcode and answer.
func encryptedClients(t *testing.T, s tlsServe) map[string]func(name string, qtype uint16) (int, []dns.RR) {
	kdig, digPath := dnstest.Program(t, "kdig"), dnstest.Program(t, "dig")
	host := s.dot.Addr().String()
	kdigArgs := func(port uint16, mode string) []string {
		return []string{"@" + host, "-p", strconv.Itoa(int(port)), mode, "+tls-ca=" + s.cert, "+tls-hostname=localhost",
			"+time=10", "+retry=0", "+noall", "+header", "+answer"}
	}
	digArgs := func(port uint16, mode string) []string {
		return []string{"@" + host, "-p", strconv.Itoa(int(port)), mode, "+tls-ca=" + s.cert, "+tls-hostname=localhost",
			"+time=10", "+tries=1", "+noall", "+comments", "+answer"}
	}
	tool := func(path string, args []string) func(string, uint16) (int, []dns.RR) {
		return func(name string, qtype uint16) (int, []dns.RR) { return toolAsk(t, path, args, name, qtype) }
	}
	return map[string]func(string, uint16) (int, []dns.RR){
		"kdig +tls":       tool(kdig, kdigArgs(s.dot.Port(), "+tls")),
		"kdig +https":     tool(kdig, kdigArgs(s.doh.Port(), "+https")),
		"kdig +https-get": tool(kdig, kdigArgs(s.doh.Port(), "+https-get")),
		"dig +tls":        tool(digPath, digArgs(s.dot.Port(), "+tls")),
		"dig +https":      tool(digPath, digArgs(s.doh.Port(), "+https")),
		"Go DoQ": func(name string, qtype uint16) (int, []dns.RR) {
			r := doqAsk(t, s.doq, s.cert, name, qtype)
			return r.Rcode, r.Answer
		},
	}
}

// TestEncryptedTransports: every lab case gets, over DNS over TLS, HTTPS
// and QUIC from real clients, the rcode and answer it gets over UDP, and
// the statistics count each transport's replies.
func TestEncryptedTransports(t *testing.T) {
	s := startTLSServe(t)
	clients := encryptedClients(t, s)
	for _, c := range labCases {
		t.Run(c.name, func(t *testing.T) {
			udp := ask(t, s.addr, "udp", c.qname, c.qtype)
			if udp.Truncated {
				udp = ask(t, s.addr, "tcp", c.qname, c.qtype)
			}
			want := dnstest.Set(udp.Answer)
			for name, client := range clients {
				rcode, answer := client(c.qname, c.qtype)
				if rcode != udp.Rcode || !slices.Equal(dnstest.Set(answer), want) {
					t.Errorf("%s: %s %v\nwant, as over UDP: %s %v", name, dns.RcodeToString[rcode], dnstest.Set(answer),
						dns.RcodeToString[udp.Rcode], want)
				}
			}
		})
	}
	stats := adminGet(t, s.admin.String(), "/stats")
	for _, tr := range []string{"udp", "dot", "doh", "doq"} {
		if !strings.Contains(stats, fmt.Sprintf("%q: ", tr)) || strings.Contains(stats, fmt.Sprintf("%q: 0,", tr)) || strings.Contains(stats, fmt.Sprintf("%q: 0\n", tr)) {
			t.Errorf("/stats does not count %s replies:\n%s", tr, stats)
		}
	}
	if m := adminGet(t, s.admin.String(), "/metrics"); !strings.Contains(m, `rootwalk_replies_by_transport_total{transport="doq"}`) {
		t.Error("/metrics has no DoQ replies")
	}
}

// TestEncryptedTransportsACLAndRateLimit: the ACL and the rate limit turn
// clients away on every encrypted transport as on UDP.
func TestEncryptedTransportsACLAndRateLimit(t *testing.T) {
	t.Run("ACL", func(t *testing.T) {
		s := startTLSServe(t, "--acl-deny", "127.0.0.0/8")
		for name, client := range encryptedClients(t, s) {
			if rcode, _ := client("www.example.com.", dns.TypeA); rcode != dns.RcodeRefused {
				t.Errorf("%s from a denied client: %s, want REFUSED", name, dns.RcodeToString[rcode])
			}
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		s := startTLSServe(t, "--ratelimit-qps", "0.01", "--ratelimit-burst", "2")
		for range 2 {
			if r := ask(t, s.addr, "udp", "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeSuccess {
				t.Fatalf("within the burst: %s", dns.RcodeToString[r.Rcode])
			}
		}
		for name, client := range encryptedClients(t, s) {
			if rcode, _ := client("www.example.com.", dns.TypeA); rcode != dns.RcodeRefused {
				t.Errorf("%s past the client's rate: %s, want REFUSED", name, dns.RcodeToString[rcode])
			}
		}
	})
}

// TestForwardOverTLS: a forward zone whose server is written tls:// is
// asked over DNS over TLS, its certificate checked: rootwalk B forwards
// example.com to rootwalk A's DoT listener and gets its answers; with the
// wrong name or without A's CA, B refuses A and answers SERVFAIL.
func TestForwardOverTLS(t *testing.T) {
	a := startTLSServe(t)
	forward := func(zone, extra string, args ...string) served {
		return startServe(t, func(labPort int) []string {
			return append([]string{"--lab", "--lab-port", strconv.Itoa(labPort), "--dnssec-enabled=false",
				"--forward-zones", zone + "=tls://" + a.dot.String() + extra}, args...)
		})
	}
	dotReplies := func() string {
		stats := adminGet(t, a.admin.String(), "/stats")
		i := strings.Index(stats, `"dot": `)
		if i < 0 {
			t.Fatalf("no dot count in /stats:\n%s", stats)
		}
		return strings.TrimRight(strings.Fields(stats[i+len(`"dot": `):])[0], ",")
	}

	b := forward("example.com", "#localhost", "--tls-ca-file", a.cert)
	before := dotReplies()
	r := ask(t, b.addr, "udp", "www.example.com.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.10" {
		t.Fatalf("www.example.com through the TLS forwarder: %v", r)
	}
	if after := dotReplies(); after == before {
		t.Errorf("A's DNS-over-TLS listener answered nothing (%s before and after)", before)
	}

	for name, srv := range map[string]served{
		"the wrong name":      forward("example.com", "#not-this.example", "--tls-ca-file", a.cert),
		"an untrusted server": forward("example.com", "#localhost"),
	} {
		if r := ask(t, srv.addr, "udp", "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
			t.Errorf("%s: %s, want SERVFAIL", name, dns.RcodeToString[r.Rcode])
		}
	}
}
