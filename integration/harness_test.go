package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/server"
	"github.com/rootwalk/rootwalk/zones"
)

// bigTXT is the lab's big.example.com TXT RRset.
func bigTXT() []string {
	out := make([]string, 40)
	for i := range out {
		out[i] = fmt.Sprintf(`big.example.com. 3600 IN TXT "record-%02d-abcdefghijklmnopqrstuvwxyz-0123456789-abcdefghijkl"`, i+1)
	}
	return out
}

var loopbackNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// stack is rootwalk wired in-process the way cmd wires it: lab, cache,
// resolver, handler and listener.
type stack struct {
	lab      *zones.Lab
	clock    *dnstest.Clock
	cache    *cache.Cache
	resolver *resolver.Resolver
	metrics  *server.Metrics
	addr     netip.AddrPort // where rootwalk answers
}

// startLab starts the lab on port (0: a free one) and stops it when the
// test ends.
func startLab(t *testing.T, port int) *zones.Lab {
	t.Helper()
	lab, err := zones.StartLab(t.Context(), zones.LabOptions{Port: port, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("start lab: %v", err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	return lab
}

// startStack starts rootwalk in-process against lab, configured as
// `rootwalk serve --lab` is unless opts change it.
func startStack(t *testing.T, lab *zones.Lab, opts ...func(*resolver.Options)) *stack {
	t.Helper()
	return startStackWith(t, lab, server.HandlerOptions{}, opts...)
}

// startStackWith is startStack with the handler's options that the stack
// does not set itself (ReplayEntries, say) taken from handlerOpts.
func startStackWith(t *testing.T, lab *zones.Lab, handlerOpts server.HandlerOptions, opts ...func(*resolver.Options)) *stack {
	t.Helper()
	s := &stack{lab: lab, clock: dnstest.NewClock(time.Now())}
	hints, err := resolver.ParseHints(strings.NewReader(lab.Hints()), "lab")
	if err != nil {
		t.Fatal(err)
	}
	if s.cache, err = cache.New(cache.Options{StaleMaxAge: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	o := resolver.Options{
		Hints: hints, UpstreamPort: uint16(lab.Port()), IPv6: true, QNameMinimisation: true, AllowUpstream: resolver.Loopback,
		Prefetch: true, ServeStale: true,
		Cache: s.cache, Clock: s.clock, Logger: testLogger(t),
	}
	for _, f := range opts {
		f(&o)
	}
	if c, ok := o.Cache.(*cache.Cache); ok {
		s.cache = c // withCache replaced it
	}
	s.resolver, err = resolver.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.resolver.Close)
	s.metrics = server.NewMetrics()
	ho := handlerOpts
	ho.Resolver, ho.ACL, ho.Metrics, ho.Clock, ho.Logger = s.resolver, server.ACL{Allow: loopbackNets}, s.metrics, s.clock, testLogger(t)
	h, err := server.NewHandler(ho)
	if err != nil {
		t.Fatal(err)
	}
	// The tests burst connections from one address, as many clients
	// would: no cap per client (server's own tests cover it).
	l, err := server.ListenWith(netip.MustParseAddrPort("127.0.0.1:0"), h,
		server.ListenOptions{MaxTCPConnsPerClient: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Errorf("shut down rootwalk: %v", err)
		}
	})
	s.addr = l.Addr()
	return s
}

// withCache gives a stack a cache configured as opts say.
func withCache(t *testing.T, opts cache.Options) func(*resolver.Options) {
	t.Helper()
	c, err := cache.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return func(o *resolver.Options) { o.Cache = c }
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ask sends one query to addr, as a stub resolver would (RD set, EDNS0
// with a 1232-byte buffer), over network ("udp" or "tcp").
func ask(t *testing.T, addr netip.AddrPort, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, false)
	c := &dns.Client{Net: network, Timeout: 10 * time.Second}
	reply, _, err := c.Exchange(q, addr.String())
	if err != nil {
		t.Fatalf("%s %s over %s to %s: %v", name, dns.TypeToString[qtype], network, addr, err)
	}
	return reply
}

// askFull asks over UDP and repeats over TCP when the reply is truncated,
// as dig does.
func askFull(t *testing.T, addr netip.AddrPort, name string, qtype uint16) *dns.Msg {
	t.Helper()
	reply := ask(t, addr, "udp", name, qtype)
	if reply.Truncated {
		reply = ask(t, addr, "tcp", name, qtype)
	}
	return reply
}

// checkCase checks reply against c: rcode, the answer section (with TTLs
// when exactTTL), the SOA of a negative answer, and the flags a
// recursive resolver sets.
func checkCase(t *testing.T, c labCase, reply *dns.Msg, exactTTL bool) {
	t.Helper()
	if reply.Rcode != c.rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[reply.Rcode], dns.RcodeToString[c.rcode])
	}
	want := dnstest.RRs(t, c.answer...)
	if exactTTL {
		if got, w := dnstest.Sorted(reply.Answer), dnstest.Sorted(want); !slices.Equal(got, w) {
			t.Errorf("answer\n got %q\nwant %q", got, w)
		}
	} else if got, w := dnstest.Set(reply.Answer), dnstest.Set(want); !slices.Equal(got, w) {
		t.Errorf("answer\n got %q\nwant %q", got, w)
	}
	var soa string
	for _, rr := range reply.Ns {
		if rr.Header().Rrtype == dns.TypeSOA {
			soa = strings.ToLower(rr.Header().Name)
		}
	}
	if soa != c.soa {
		t.Errorf("SOA in authority for %q, want %q (authority %v)", soa, c.soa, reply.Ns)
	}
	if !reply.Response || !reply.RecursionAvailable || !reply.RecursionDesired || reply.Authoritative || reply.Truncated {
		t.Errorf("flags qr=%v rd=%v ra=%v aa=%v tc=%v, want qr rd ra, not aa or tc",
			reply.Response, reply.RecursionDesired, reply.RecursionAvailable, reply.Authoritative, reply.Truncated)
	}
	if len(reply.Question) != 1 || reply.Question[0].Name != c.qname || reply.Question[0].Qtype != c.qtype {
		t.Errorf("question %v, want %s %s echoed", reply.Question, c.qname, dns.TypeToString[c.qtype])
	}
}
