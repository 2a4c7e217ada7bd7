//go:build !linux

package server

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// batchReader reads one datagram at a time where recvmmsg is not
// available, and sends each reply at once. It belongs to one goroutine.
type batchReader struct {
	c    *net.UDPConn
	buf  [maxQuerySize]byte
	n    int
	from netip.AddrPort
}

func newBatchReader(c *net.UDPConn) *batchReader { return &batchReader{c: c} }

// read waits for a datagram and returns 1.
func (r *batchReader) read() (int, error) {
	n, from, err := r.c.ReadFromUDPAddrPort(r.buf[:])
	if err != nil {
		return 0, fmt.Errorf("read datagram: %w", err)
	}
	r.n, r.from = n, from
	return 1, nil
}

// datagram returns the datagram of the last read and who sent it.
func (r *batchReader) datagram(int) ([]byte, netip.AddrPort) { return r.buf[:r.n], r.from }

// reply sends b to to at once; a reply that cannot be sent is lost, as
// on any UDP path.
func (r *batchReader) reply(b []byte, to netip.AddrPort) {
	_, _ = r.c.WriteToUDPAddrPort(b, to)
}

// flush has nothing to send: reply sent it.
func (r *batchReader) flush() error { return nil }

// reusePort says that several UDP sockets may not share one address here:
// one socket serves it.
const reusePort = false

// reusePortControl is not needed where there is one socket.
var reusePortControl func(network, address string, c syscall.RawConn) error
