package resolver

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// localInvalid answers every name under invalid. with NXDOMAIN.
type localInvalid struct{}

func (localInvalid) Answer(q dns.Question) (*dns.Msg, string, bool) {
	if !dns.IsSubDomain("invalid.", q.Name) {
		return nil, "", false
	}
	m := new(dns.Msg)
	m.Rcode = dns.RcodeNameError
	return m, "invalid.", true
}

// recording notes the port and RD bit of every query.
type recording struct {
	net  Exchanger
	mu   sync.Mutex
	sent []string // "addr:port qname rd"
}

func (r *recording) Exchange(ctx context.Context, q *dns.Msg, to netip.AddrPort, d time.Duration) (Response, error) {
	r.mu.Lock()
	rd := ""
	if q.RecursionDesired {
		rd = " rd"
	}
	r.sent = append(r.sent, to.String()+" "+strings.ToLower(q.Question[0].Name)+rd)
	r.mu.Unlock()
	return r.net.Exchange(ctx, q, to, d)
}

func newConfiguredResolver(t *testing.T, net Exchanger, opts Options) *Resolver {
	t.Helper()
	opts.Hints, opts.UpstreamPort, opts.Exchanger = testHints, 53, net
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestLocalZonesAreNeverAskedUpstream(t *testing.T) {
	rec := &recording{net: newFakeNet(testTree(t))}
	r := newConfiguredResolver(t, rec, Options{Local: localInvalid{}})
	res, err := r.Resolve(t.Context(), dns.Question{Name: "printer.invalid.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if err != nil || res.Reply.Rcode != dns.RcodeNameError {
		t.Fatalf("%v, %v; want NXDOMAIN", res, err)
	}
	if len(rec.sent) != 0 {
		t.Errorf("sent %q for a local name", rec.sent)
	}
}

func TestForwardZone(t *testing.T) {
	tree := testTree(t)
	fwd := answer(t, "www.corp.test. 60 IN A 192.0.2.50", "www.corp.test. 60 IN A 192.0.2.51")
	fwd.Authoritative, fwd.RecursionAvailable = false, true
	nodata := &dns.Msg{MsgHdr: dns.MsgHdr{RecursionAvailable: true}}
	tree["127.0.0.53"] = table{"www.corp.test. A": fwd, "www.corp.test. MX": nodata}
	rec := &recording{net: newFakeNet(tree)}
	r := newConfiguredResolver(t, rec, Options{
		Forward:      []ZoneServers{{Zone: "corp.test", Servers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.53:5353")}}},
		DenyUpstream: NonPublic, // a forwarder the operator chose is asked anyway
	})
	res, err := r.Resolve(t.Context(), dns.Question{Name: "www.corp.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if err != nil || len(res.Reply.Answer) != 2 {
		t.Fatalf("%v, %v; want the forwarder's two records", res, err)
	}
	res, err = r.Resolve(t.Context(), dns.Question{Name: "www.corp.test.", Qtype: dns.TypeMX, Qclass: dns.ClassINET})
	if err != nil || res.Reply.Rcode != dns.RcodeSuccess || len(res.Reply.Answer) != 0 {
		t.Fatalf("%v, %v; want the forwarder's NODATA", res, err)
	}
	want := []string{"127.0.0.53:5353 www.corp.test. rd", "127.0.0.53:5353 www.corp.test. rd"}
	if !slices.Equal(rec.sent, want) {
		t.Errorf("queries %q, want %q", rec.sent, want)
	}
}

func TestStubZone(t *testing.T) {
	rec := &recording{net: newFakeNet(testTree(t))}
	r := newConfiguredResolver(t, rec, Options{
		Stub: []ZoneServers{{Zone: "example.test", Servers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.3:53")}}},
	})
	res, err := r.Resolve(t.Context(), dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if err != nil || len(res.Reply.Answer) != 1 {
		t.Fatalf("%v, %v", res, err)
	}
	if want := []string{"127.0.0.3:53 www.example.test."}; !slices.Equal(rec.sent, want) {
		t.Errorf("queries %q, want only the stub server asked", rec.sent)
	}
}

func TestConfiguredZonesAreChecked(t *testing.T) {
	for _, opts := range []Options{
		{Forward: []ZoneServers{{Zone: "corp.test"}}},
		{Stub: []ZoneServers{{Zone: "a..b", Servers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}}}},
	} {
		opts.Hints, opts.UpstreamPort = testHints, 53
		if r, err := New(opts); err == nil {
			r.Close()
			t.Errorf("New accepted %+v", opts)
		}
	}
}
