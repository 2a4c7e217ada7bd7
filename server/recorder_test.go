package server

import (
	"net"

	"github.com/miekg/dns"
)

// recorder is a dns.ResponseWriter that keeps what was written, in the
// manner of coredns's dnstest.Recorder.
type recorder struct {
	remote net.Addr
	msg    *dns.Msg
	packed []byte
	writes int
}

func udpClient(ip string) *recorder {
	return &recorder{remote: &net.UDPAddr{IP: net.ParseIP(ip), Port: 40000}}
}

func tcpClient(ip string) *recorder {
	return &recorder{remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}}
}

func (r *recorder) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (r *recorder) RemoteAddr() net.Addr { return r.remote }
func (r *recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	r.writes++
	r.packed = b
	r.msg = m
	return nil
}
func (r *recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	r.writes++
	r.packed, r.msg = b, m
	return len(b), nil
}
func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}
