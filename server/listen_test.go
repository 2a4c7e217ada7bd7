package server

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestListenServesUDPAndTCP(t *testing.T) {
	h := newTestHandler(t, answering(t, 30), nil)
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if l.Addr().Port() == 0 {
		t.Fatal("no port bound")
	}
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 5 * time.Second}
		reply, _, err := c.Exchange(newQuery("www.example.com.", dns.TypeTXT, 1232), l.Addr().String())
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		wantTC := network == "udp"
		if reply.Truncated != wantTC || (!wantTC && len(reply.Answer) != 30) {
			t.Errorf("%s: TC %v with %d records", network, reply.Truncated, len(reply.Answer))
		}
	}
}

func TestListenReportsBusyAddress(t *testing.T) {
	h := newTestHandler(t, answering(t, 1), nil)
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if l2, err := Listen(l.Addr(), h, nil); err == nil {
		_ = l2.Shutdown(context.Background()) // the test has failed already
		t.Fatal("second Listen on a busy address succeeded")
	}
}
