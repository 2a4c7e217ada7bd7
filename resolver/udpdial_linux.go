package resolver

import (
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// dialUDP opens a UDP socket connected to server with two system calls,
// socket(2) and connect(2), and hands it to the Go poller as a File,
// which waits for the reply without holding a thread and honours
// deadlines. net.Dial does the same with three more (SO_BROADCAST, and
// reading back both addresses), on every upstream query; the kernel
// still picks a new random source port for each socket (RFC 5452 section
// 9.2), and the connected socket only receives from server. ok is false
// for an address it does not handle (an IPv6 zone), for net.Dial to do.
func dialUDP(server netip.AddrPort) (f *os.File, ok bool, err error) {
	addr := server.Addr().Unmap()
	var (
		family int
		sa     unix.Sockaddr
	)
	switch {
	case addr.Zone() != "":
		return nil, false, nil
	case addr.Is4():
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: int(server.Port()), Addr: addr.As4()}
	default:
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: int(server.Port()), Addr: addr.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, true, fmt.Errorf("udp socket: %w", err)
	}
	if err := unix.Connect(fd, sa); err != nil {
		_ = unix.Close(fd) // never used
		return nil, true, fmt.Errorf("udp connect %s: %w", server, err)
	}
	return os.NewFile(uintptr(fd), "udp"), true, nil
}
