package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"
)

// testTLS returns a server configuration with a fresh self-signed
// certificate for 127.0.0.1, and a client configuration trusting it.
func testTLS(t *testing.T, alpn string) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS13}
	client = &tls.Config{RootCAs: roots, NextProtos: []string{alpn}, MinVersion: tls.VersionTLS13}
	return server, client
}

// doqExchange sends q on a new stream of conn and returns the reply.
func doqExchange(ctx context.Context, conn *quic.Conn, q *dns.Msg) (*dns.Msg, error) {
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	wire, err := q.Pack()
	if err != nil {
		return nil, err
	}
	if _, err := s.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(wire))), wire...)); err != nil {
		return nil, err
	}
	_ = s.Close() // FIN: the query is whole
	var n [2]byte
	if _, err := io.ReadFull(s, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(s, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(b)
}

func TestDoQ(t *testing.T) {
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: ACL{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	if err != nil {
		t.Fatal(err)
	}
	srvTLS, cliTLS := testTLS(t, "doq")
	l, err := ListenQUIC(netip.MustParseAddrPort("127.0.0.1:0"), h, srvTLS, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, l.Addr().String(), cliTLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.CloseWithError(0, "") }() // done
	// Queries on one connection, each on its own stream, with ID 0.
	for range 3 {
		q := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
		q.Id = 0
		reply, err := doqExchange(ctx, conn, q)
		if err != nil || reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 || reply.Id != 0 {
			t.Fatalf("reply %v, %v; want one answer with ID 0", reply, err)
		}
	}
	// A query with another ID is a protocol error: the connection ends
	// with DOQ_PROTOCOL_ERROR (RFC 9250 section 4.2.1).
	q := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	q.Id = 7
	_, err = doqExchange(ctx, conn, q)
	var appErr *quic.ApplicationError
	if !errors.As(err, &appErr) || appErr.ErrorCode != 0x2 {
		t.Errorf("a query with ID 7: %v, want the connection closed with DOQ_PROTOCOL_ERROR", err)
	}
}
