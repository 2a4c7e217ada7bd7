package server

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatch is how many datagrams one system call reads or writes
// (recvmmsg, sendmmsg): under load a reader takes what has queued up in
// one call instead of one call and one netpoller round trip per query.
const udpBatch = 32

// mmsghdr is struct mmsghdr of recvmmsg(2): a message header and the
// length the kernel read or wrote.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// batchReader reads the datagrams of one socket udpBatch at a time and
// sends replies the same way, through the Go netpoller (the socket stays
// non-blocking, so Close ends a wait). Nothing is allocated per datagram.
// It belongs to one goroutine.
type batchReader struct {
	raw syscall.RawConn

	in     [udpBatch]mmsghdr
	inIov  [udpBatch]unix.Iovec
	inName [udpBatch]unix.RawSockaddrInet6 // large enough for either family
	inBuf  [udpBatch][maxQuerySize]byte
	got    int // datagrams read by the last read

	out     [udpBatch]mmsghdr
	outIov  [udpBatch]unix.Iovec
	outName [udpBatch]unix.RawSockaddrInet6
	outBuf  [udpBatch][ednsBufferSize]byte
	queued  int // replies waiting for flush
	sent    int // of those, sent so far

	err            error                 // of the last system call
	setupErr       error                 // the socket could not be used at all
	readFn, sendFn func(fd uintptr) bool // made once: a method value allocates
}

func newBatchReader(c *net.UDPConn) *batchReader {
	r := &batchReader{}
	var err error
	if r.raw, err = c.SyscallConn(); err != nil {
		r.setupErr = fmt.Errorf("%w: %w", errReaderBroken, err)
	}
	for i := range udpBatch {
		r.inIov[i] = unix.Iovec{Base: &r.inBuf[i][0]}
		r.inIov[i].SetLen(maxQuerySize)
		r.in[i].hdr.Iov = &r.inIov[i]
		r.in[i].hdr.SetIovlen(1)
		r.in[i].hdr.Name = (*byte)(unsafe.Pointer(&r.inName[i]))
		r.outIov[i] = unix.Iovec{Base: &r.outBuf[i][0]}
		r.out[i].hdr.Iov = &r.outIov[i]
		r.out[i].hdr.SetIovlen(1)
		r.out[i].hdr.Name = (*byte)(unsafe.Pointer(&r.outName[i]))
	}
	r.readFn = r.recv
	r.sendFn = r.send
	return r
}

// read waits for at least one datagram and returns how many it read.
func (r *batchReader) read() (int, error) {
	if r.setupErr != nil {
		return 0, r.setupErr
	}
	r.err = nil
	for i := range udpBatch {
		r.in[i].hdr.Namelen = uint32(unsafe.Sizeof(r.inName[i]))
	}
	if err := r.raw.Read(r.readFn); err != nil {
		return 0, fmt.Errorf("read datagrams: %w", err)
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.got, nil
}

// recv is the raw read: false asks the netpoller to wait for data.
func (r *batchReader) recv(fd uintptr) bool {
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.in[0])), udpBatch, 0, 0, 0)
	switch errno {
	case 0:
		r.got, r.err = int(n), nil
		return true
	case unix.EAGAIN, unix.EINTR:
		return false
	}
	r.got, r.err = 0, fmt.Errorf("recvmmsg: %w", errno)
	return true
}

// datagram returns the i-th datagram of the last read and who sent it.
func (r *batchReader) datagram(i int) ([]byte, netip.AddrPort) {
	return r.inBuf[i][:r.in[i].n], sockaddrAddrPort(&r.inName[i])
}

// reply queues b, at most ednsBufferSize bytes, for to; flush sends the
// queue, and so does reply when the queue is full.
func (r *batchReader) reply(b []byte, to netip.AddrPort) {
	if r.queued == udpBatch {
		_ = r.flush() // a reply that cannot be sent is lost, as on any UDP path
	}
	i := r.queued
	n := copy(r.outBuf[i][:], b)
	r.outIov[i].SetLen(n)
	r.out[i].hdr.Namelen = putSockaddr(&r.outName[i], to)
	r.queued++
}

// flush sends the queued replies. A reply the kernel refuses is skipped,
// so one bad destination does not hold up the others; the first such
// error is returned.
func (r *batchReader) flush() error {
	var first error
	for r.sent < r.queued {
		r.err = nil
		if err := r.raw.Write(r.sendFn); err != nil {
			r.queued, r.sent = 0, 0
			return fmt.Errorf("write replies: %w", err)
		}
		if r.err != nil {
			if first == nil {
				first = r.err
			}
			r.sent++ // skip the reply the kernel refused
		}
	}
	r.queued, r.sent = 0, 0
	return first
}

// send is the raw write of the replies not yet sent: false asks the
// netpoller to wait until the socket can take more.
func (r *batchReader) send(fd uintptr) bool {
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&r.out[r.sent])), uintptr(r.queued-r.sent), 0, 0, 0)
	switch errno {
	case 0:
		r.sent += int(n)
		return true
	case unix.EAGAIN, unix.EINTR:
		return false
	}
	r.err = fmt.Errorf("sendmmsg: %w", errno)
	return true
}

// sockaddrAddrPort reads a sockaddr_in or sockaddr_in6 the kernel filled.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port)
	}
	return netip.AddrPort{}
}

// putSockaddr writes to into sa, as the socket's family wants it, and
// returns its length. An IPv4 socket gets a sockaddr_in; an IPv6 one,
// which reports IPv4 clients as mapped addresses, a sockaddr_in6.
func putSockaddr(sa *unix.RawSockaddrInet6, to netip.AddrPort) uint32 {
	*sa = unix.RawSockaddrInet6{}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	binary.BigEndian.PutUint16(p[:], to.Port())
	if a := to.Addr(); a.Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		sa4.Addr = a.As4()
		return unix.SizeofSockaddrInet4
	}
	sa.Family = unix.AF_INET6
	sa.Addr = to.Addr().As16()
	return unix.SizeofSockaddrInet6
}

// reusePort says that several UDP sockets may share one address here.
const reusePort = true

// reusePortControl sets SO_REUSEPORT on a socket before it is bound, so
// that one socket per core can serve the same address and the kernel
// spreads clients over them by a hash of their address.
func reusePortControl(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return fmt.Errorf("set SO_REUSEPORT: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("set SO_REUSEPORT: %w", serr)
	}
	return nil
}
