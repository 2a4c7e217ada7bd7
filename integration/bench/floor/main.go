// Command floor measures the least CPU a Go program needs for the network
// part of a "cold" DNS resolution: for every client datagram it opens one
// fresh upstream UDP socket, does one exchange and sends one reply. It parses
// no DNS at all, forwarding the client's bytes to one authority of the lab
// and the authority's bytes back.
//
// It is the yardstick of rootwalk's cold path (issue 7): what the system
// calls and Go's runtime cost per cold answer, so that the rest of
// rootwalk's CPU per answer is the DNS work. Mode netpoll is the ordinary
// Go way (a goroutine per query, sockets in the netpoller); mode epoll has
// a locked OS thread per socket with its own epoll loop, as Unbound does.
// With -echo it asks no upstream and answers each query itself, the floor
// of the warm path. compare.sh runs both modes beside Unbound and rootwalk
// on the same lab, under the same dnsperf load, and prints the CPU each
// spends per answer (cold names) or its latency percentiles (paced, with
// -echo).
//
// It only talks to 127.0.0.0/8.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	clientBuf = 65536
	replyBuf  = 4096
	timeout   = 2 * time.Second
	sweepTick = 100 * time.Millisecond
)

var answered atomic.Uint64

// echo makes each query answered at once on the reading goroutine or
// thread, with its own bytes and the QR bit set: a reply with no records,
// which dnsperf counts like any other. It is the floor of the warm path,
// whose latency the paced scenario measures.
var echo bool

// echoReply turns the query in b into its reply, in place.
func echoReply(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	b[2] |= 0x80
	return true
}

func main() {
	listen := flag.String("listen", "127.0.0.1:5599", "listen address (loopback)")
	upstream := flag.String("upstream", "127.53.2.1:10353", "upstream address (loopback)")
	mode := flag.String("mode", "netpoll", "netpoll or epoll")
	flag.BoolVar(&echo, "echo", false, "answer each query at once (its bytes with QR set), asking no upstream: the warm path's floor")
	threads := flag.Int("threads", 2, "number of SO_REUSEPORT listening sockets")
	flag.Parse()

	la := mustLoopback(*listen)
	ua := mustLoopback(*upstream)
	if *threads < 1 {
		log.Fatal("-threads must be >= 1")
	}
	up := unix.SockaddrInet4{Port: int(ua.Port()), Addr: ua.Addr().As4()}

	switch *mode {
	case "netpoll":
		for range *threads {
			conn := listenNetpoll(la)
			go readLoop(conn, up)
		}
	case "epoll":
		for range *threads {
			lfd := listenRaw(la)
			go epollLoop(lfd, up)
		}
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	fmt.Printf("answered %d\n", answered.Load())
	os.Exit(0)
}

// mustLoopback parses an IPv4 address:port and insists it is in 127.0.0.0/8.
func mustLoopback(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		log.Fatal(err)
	}
	if !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
		log.Fatalf("%s: only IPv4 addresses in 127.0.0.0/8 are allowed", s)
	}
	return ap
}

// dialUpstream opens a fresh non-blocking UDP socket connected to up.
// up is passed by value: Connect writes into the sockaddr's scratch space.
func dialUpstream(up unix.SockaddrInet4) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Connect(fd, &up); err != nil {
		_ = unix.Close(fd) // never used
		return -1, err
	}
	return fd, nil
}

// ---- mode netpoll: a goroutine per query, everything through Go's netpoller.

func listenNetpoll(la netip.AddrPort) *net.UDPConn {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", la.String())
	if err != nil {
		log.Fatal(err)
	}
	return pc.(*net.UDPConn)
}

func readLoop(conn *net.UDPConn, up unix.SockaddrInet4) {
	buf := make([]byte, clientBuf)
	for {
		n, client, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			log.Printf("read: %v", err)
			continue
		}
		if !client.Addr().Unmap().IsLoopback() {
			continue
		}
		if echo {
			if echoReply(buf[:n]) {
				if _, err := conn.WriteToUDPAddrPort(buf[:n], client); err == nil {
					answered.Add(1)
				}
			}
			continue
		}
		q := append([]byte(nil), buf[:n]...)
		go handle(conn, client, q, up)
	}
}

func handle(conn *net.UDPConn, client netip.AddrPort, q []byte, up unix.SockaddrInet4) {
	fd, err := dialUpstream(up)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "upstream") // non-blocking fd: registered with the netpoller
	if err := f.SetDeadline(time.Now().Add(timeout)); err != nil {
		_ = f.Close()
		return
	}
	reply := make([]byte, replyBuf)
	n := 0
	if _, err = f.Write(q); err == nil {
		n, err = f.Read(reply)
	}
	_ = f.Close() // read from, never written to after
	if err != nil {
		return
	}
	if _, err := conn.WriteToUDPAddrPort(reply[:n], client); err == nil {
		answered.Add(1)
	}
}

// ---- mode epoll: one locked OS thread per listening socket, no goroutine per
// query, no netpoller.

func listenRaw(la netip.AddrPort) int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		log.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(la.Port()), Addr: la.Addr().As4()}); err != nil {
		log.Fatal(err)
	}
	return fd
}

type pending struct {
	client unix.Sockaddr
	start  time.Time
}

func epollLoop(lfd int, up unix.SockaddrInet4) {
	runtime.LockOSThread()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		log.Fatal(err)
	}
	add := func(fd int) error {
		return unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
	}
	drop := func(fd int) {
		_ = unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil) // closing removes it anyway
		_ = unix.Close(fd)
	}
	if err := add(lfd); err != nil {
		log.Fatal(err)
	}

	inflight := make(map[int]pending)
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, clientBuf)
	lastSweep := time.Now()

	for {
		nev, err := unix.EpollWait(epfd, events, int(sweepTick/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			log.Fatalf("epoll_wait: %v", err)
		}
		now := time.Now()
		for _, ev := range events[:max(nev, 0)] {
			fd := int(ev.Fd)
			if fd == lfd {
				for {
					n, from, err := unix.Recvfrom(lfd, buf, 0)
					if errors.Is(err, unix.EINTR) {
						continue
					}
					if err != nil { // EAGAIN: drained; anything else: give up for now
						break
					}
					sa, ok := from.(*unix.SockaddrInet4)
					if !ok || sa.Addr[0] != 127 {
						continue
					}
					if echo {
						if echoReply(buf[:n]) && unix.Sendto(lfd, buf[:n], 0, sa) == nil {
							answered.Add(1)
						}
						continue
					}
					ufd, err := dialUpstream(up)
					if err != nil {
						continue
					}
					if _, err := unix.Write(ufd, buf[:n]); err != nil {
						_ = unix.Close(ufd)
						continue
					}
					if err := add(ufd); err != nil {
						_ = unix.Close(ufd)
						continue
					}
					inflight[ufd] = pending{client: sa, start: now}
				}
				continue
			}
			p, ok := inflight[fd]
			if !ok {
				continue
			}
			n, err := unix.Read(fd, buf[:replyBuf])
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue // spurious wakeup; still waiting
			}
			delete(inflight, fd)
			drop(fd)
			if err != nil { // e.g. ECONNREFUSED
				continue
			}
			if err := unix.Sendto(lfd, buf[:n], 0, p.client); err == nil {
				answered.Add(1)
			}
		}
		if now.Sub(lastSweep) >= sweepTick {
			lastSweep = now
			for fd, p := range inflight {
				if now.Sub(p.start) > timeout {
					delete(inflight, fd)
					drop(fd)
				}
			}
		}
	}
}
