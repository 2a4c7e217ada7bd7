package server

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestBatchReaderOutlivesAFailedSend: a reply the kernel refuses (its
// error left in the reader) does not stop the reader: the next datagram
// is read.
func TestBatchReaderOutlivesAFailedSend(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() }) // the test is over; nothing to report
	r := newBatchReader(c)
	r.err = errors.New("sendmmsg: operation not permitted") // as a failed flush leaves it
	client, err := net.DialUDP("udp", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	if _, err := client.Write([]byte("datagram")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(testBound)) // a stuck read fails the test instead of hanging it
	n, err := r.read()
	if err != nil || n != 1 {
		t.Fatalf("read after a failed send: %d datagrams, %v; want 1", n, err)
	}
	if pkt, _ := r.datagram(0); string(pkt) != "datagram" {
		t.Errorf("read %q, want %q", pkt, "datagram")
	}
}
