package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"

	"github.com/rootwalk/rootwalk/resolver"
)

// fakeResolver answers from a function.
type fakeResolver func(ctx context.Context, q resolver.Query) (*resolver.Result, error)

func (f fakeResolver) ResolveQuery(ctx context.Context, q resolver.Query) (*resolver.Result, error) {
	return f(ctx, q)
}

// Resolve is for the admin API's traces.
func (f fakeResolver) Resolve(ctx context.Context, q dns.Question) (*resolver.Result, error) {
	return f(ctx, resolver.Query{Question: q})
}

// answering answers www.example.com with n TXT records, anything else
// with NXDOMAIN, as if from the cache.
func answering(t testing.TB, n int) fakeResolver {
	t.Helper()
	soa := dnstest.RRs(t, "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300")
	return func(_ context.Context, q resolver.Query) (*resolver.Result, error) {
		m := new(dns.Msg)
		if !strings.EqualFold(q.Name, "www.example.com.") {
			m.Rcode = dns.RcodeNameError
			m.Ns = soa
			return &resolver.Result{Reply: m}, nil
		}
		for i := range n {
			rr, err := dns.NewRR(fmt.Sprintf("www.example.com. 60 IN TXT \"record %03d %s\"", i, strings.Repeat("x", 40)))
			if err != nil {
				panic(err) // the format above is fixed
			}
			m.Answer = append(m.Answer, rr)
		}
		return &resolver.Result{Reply: m}, nil
	}
}

// staleAnswering answers every question with rcode and, for NOERROR, one
// A record, as an expired cached answer served under RFC 8767 (TTLs
// already cache.StaleTTL).
func staleAnswering(t testing.TB, rcode int) fakeResolver {
	t.Helper()
	a := dnstest.RRs(t, "www.example.com. 30 IN A 192.0.2.1")
	soa := dnstest.RRs(t, "example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300")
	return func(context.Context, resolver.Query) (*resolver.Result, error) {
		m := &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: rcode}}
		if rcode == dns.RcodeSuccess {
			m.Answer = a
		} else {
			m.Ns = soa
		}
		return &resolver.Result{Reply: m, Stale: true}, nil
	}
}

func udpClient(ip string) *dnstest.Recorder {
	return dnstest.NewRecorder("udp", netip.MustParseAddr(ip))
}

func tcpClient(ip string) *dnstest.Recorder {
	return dnstest.NewRecorder("tcp", netip.MustParseAddr(ip))
}

var loopbackACL = ACL{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

func newTestHandler(t testing.TB, res Resolver, log *slog.Logger) *Handler {
	t.Helper()
	h, err := NewHandler(HandlerOptions{Resolver: res, ACL: loopbackACL, Metrics: NewMetrics(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newQuery(name string, qtype uint16, edns uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 4242
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	return m
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name      string
		query     func() *dns.Msg
		client    *dnstest.Recorder
		res       Resolver
		wantRcode int
		wantNone  bool // no reply at all
		wantTC    bool
		wantCount int // answer records
		wantEDE   uint16
		wantOPT   bool
	}{
		{name: "answer", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeTXT, 0) },
			client: udpClient("127.0.0.1"), res: answering(t, 2), wantCount: 2},
		{name: "AD asked for is not given without validation", query: func() *dns.Msg {
			m := newQuery("www.example.com.", dns.TypeTXT, 1232)
			m.AuthenticatedData = true
			return m
		}, client: udpClient("127.0.0.1"), res: answering(t, 1), wantCount: 1, wantOPT: true},
		{name: "NXDOMAIN", query: func() *dns.Msg { return newQuery("nope.example.com.", dns.TypeA, 1232) },
			client: udpClient("127.0.0.1"), res: answering(t, 1), wantRcode: dns.RcodeNameError, wantOPT: true},
		{name: "client outside the ACL", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeTXT, 0) },
			client: udpClient("203.0.113.7"), res: answering(t, 1), wantRcode: dns.RcodeRefused},
		{name: "a response is never answered", query: func() *dns.Msg {
			m := newQuery("www.example.com.", dns.TypeA, 0)
			m.Response = true
			return m
		}, client: udpClient("127.0.0.1"), res: answering(t, 1), wantNone: true},
		{name: "UPDATE is not implemented", query: func() *dns.Msg {
			m := newQuery("example.com.", dns.TypeSOA, 0)
			m.Opcode = dns.OpcodeUpdate
			return m
		}, client: udpClient("127.0.0.1"), res: answering(t, 1), wantRcode: dns.RcodeNotImplemented},
		{name: "no question", query: func() *dns.Msg {
			m := newQuery("example.com.", dns.TypeSOA, 0)
			m.Question = nil
			return m
		}, client: udpClient("127.0.0.1"), res: answering(t, 1), wantRcode: dns.RcodeFormatError},
		{name: "two questions", query: func() *dns.Msg {
			m := newQuery("example.com.", dns.TypeSOA, 0)
			m.Question = append(m.Question, m.Question[0])
			return m
		}, client: udpClient("127.0.0.1"), res: answering(t, 1), wantRcode: dns.RcodeFormatError},
		{name: "EDNS version 1", query: func() *dns.Msg {
			m := newQuery("www.example.com.", dns.TypeA, 1232)
			m.IsEdns0().SetVersion(1)
			return m
		}, client: udpClient("127.0.0.1"), res: answering(t, 1), wantRcode: dns.RcodeBadVers, wantOPT: true},
		{name: "CHAOS class", query: func() *dns.Msg {
			m := newQuery("version.bind.", dns.TypeTXT, 0)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}, client: udpClient("127.0.0.1"), res: answering(t, 1), wantRcode: dns.RcodeRefused},
		{name: "zone transfer", query: func() *dns.Msg { return newQuery("example.com.", dns.TypeAXFR, 0) },
			client: tcpClient("127.0.0.1"), res: answering(t, 1), wantRcode: dns.RcodeRefused},
		{name: "resolution failure is SERVFAIL with EDE", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeA, 1232) },
			client: udpClient("127.0.0.1"),
			res: fakeResolver(func(context.Context, resolver.Query) (*resolver.Result, error) {
				return nil, fmt.Errorf("resolve: %w", resolver.ErrNoReachableAuthority)
			}),
			wantRcode: dns.RcodeServerFailure, wantOPT: true, wantEDE: dns.ExtendedErrorCodeNoReachableAuthority},
		{name: "no EDNS: truncated at 512", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeTXT, 0) },
			client: udpClient("127.0.0.1"), res: answering(t, 30), wantTC: true, wantCount: -1},
		{name: "EDNS 4096: truncated at our 1232", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeTXT, 4096) },
			client: udpClient("127.0.0.1"), res: answering(t, 30), wantTC: true, wantCount: -1, wantOPT: true},
		{name: "TCP: never truncated", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeTXT, 0) },
			client: tcpClient("127.0.0.1"), res: answering(t, 30), wantCount: 30},
		{name: "stale answer with EDNS: NOERROR with EDE 3", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeA, 1232) },
			client: udpClient("127.0.0.1"), res: staleAnswering(t, dns.RcodeSuccess),
			wantCount: 1, wantOPT: true, wantEDE: dns.ExtendedErrorCodeStaleAnswer},
		{name: "stale NXDOMAIN with EDNS: EDE 19", query: func() *dns.Msg { return newQuery("nope.example.com.", dns.TypeA, 1232) },
			client: udpClient("127.0.0.1"), res: staleAnswering(t, dns.RcodeNameError),
			wantRcode: dns.RcodeNameError, wantOPT: true, wantEDE: dns.ExtendedErrorCodeStaleNXDOMAINAnswer},
		{name: "stale answer without EDNS: no OPT, no EDE", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeA, 0) },
			client: udpClient("127.0.0.1"), res: staleAnswering(t, dns.RcodeSuccess), wantCount: 1},
		{name: "stale answer over TCP with EDNS", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeA, 4096) },
			client: tcpClient("127.0.0.1"), res: staleAnswering(t, dns.RcodeSuccess),
			wantCount: 1, wantOPT: true, wantEDE: dns.ExtendedErrorCodeStaleAnswer},
		{name: "panic becomes SERVFAIL", query: func() *dns.Msg { return newQuery("www.example.com.", dns.TypeA, 0) },
			client:    udpClient("127.0.0.1"),
			res:       fakeResolver(func(context.Context, resolver.Query) (*resolver.Result, error) { panic("boom") }),
			wantRcode: dns.RcodeServerFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newTestHandler(t, tc.res, slog.New(slog.NewTextHandler(&logs, nil)))
			q := tc.query()
			h.ServeDNS(tc.client, q)
			if tc.wantNone {
				if len(tc.client.Msgs) != 0 {
					t.Fatalf("replied %v", tc.client.Reply())
				}
				return
			}
			got := tc.client.Reply()
			if len(tc.client.Msgs) != 1 || got == nil {
				t.Fatalf("%d replies, want 1", len(tc.client.Msgs))
			}
			if got.Rcode != tc.wantRcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.wantRcode])
			}
			if got.AuthenticatedData {
				t.Error("AD set, but nothing was validated")
			}
			if got.Id != q.Id || !got.Response || !got.RecursionAvailable || got.Authoritative {
				t.Errorf("header id=%d qr=%v ra=%v aa=%v, want id=%d qr ra !aa", got.Id, got.Response, got.RecursionAvailable, got.Authoritative, q.Id)
			}
			if len(q.Question) == 1 && (len(got.Question) != 1 || got.Question[0] != q.Question[0]) {
				t.Errorf("question %v, want %v echoed", got.Question, q.Question)
			}
			if got.Truncated != tc.wantTC {
				t.Errorf("TC %v, want %v", got.Truncated, tc.wantTC)
			}
			if tc.wantCount >= 0 && len(got.Answer) != tc.wantCount {
				t.Errorf("%d answer records, want %d", len(got.Answer), tc.wantCount)
			}
			if (got.IsEdns0() != nil) != tc.wantOPT {
				t.Errorf("OPT in reply %v, want %v", got.IsEdns0() != nil, tc.wantOPT)
			}
			if limit := udpLimit(q, tc.client); len(tc.client.ReplyBytes()) > limit {
				t.Errorf("reply of %d bytes, client limit %d", len(tc.client.ReplyBytes()), limit)
			}
			if ede := findEDE(got); tc.wantEDE == 0 && ede != nil {
				t.Errorf("EDE %v, want none", ede)
			} else if tc.wantEDE != 0 && (ede == nil || ede.InfoCode != tc.wantEDE) {
				t.Errorf("EDE %v, want code %d", ede, tc.wantEDE)
			}
			if strings.Contains(tc.name, "panic") != strings.Contains(logs.String(), "panic") {
				t.Errorf("logs: %s", logs.String())
			}
		})
	}
}

func udpLimit(q *dns.Msg, w *dnstest.Recorder) int {
	if transportOf(w) != TransportUDP {
		return dns.MaxMsgSize
	}
	if opt := q.IsEdns0(); opt != nil {
		return int(min(opt.UDPSize(), ednsBufferSize))
	}
	return dns.MinMsgSize
}

func findEDE(m *dns.Msg) *dns.EDNS0_EDE {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if ede, ok := o.(*dns.EDNS0_EDE); ok {
				return ede
			}
		}
	}
	return nil
}

func TestACL(t *testing.T) {
	acl := ACL{
		Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Deny:  []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")},
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.1.2.3", true},
		{"10.9.1.1", false}, // deny wins
		{"::ffff:10.1.2.3", true},
		{"::1", true},
		{"127.0.0.1", false},
		{"fe80::1%eth0", false},
	}
	for _, tc := range tests {
		if got := acl.Allows(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Allows(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	if (&ACL{}).Allows(netip.MustParseAddr("127.0.0.1")) {
		t.Error("the zero ACL allowed a client")
	}
}

func TestMetricsCountReplies(t *testing.T) {
	m := NewMetrics()
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: loopbackACL, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeTXT, 0))
	h.ServeDNS(udpClient("127.0.0.1"), newQuery("nope.example.com.", dns.TypeA, 0))
	h.ServeDNS(udpClient("192.0.2.1"), newQuery("www.example.com.", dns.TypeA, 0))
	s := m.Snapshot()
	if s.Total != 3 || s.ByType["TXT"] != 1 || s.ByType["A"] != 2 || s.ByRcode["NOERROR"] != 1 || s.ByRcode["NXDOMAIN"] != 1 || s.ByRcode["REFUSED"] != 1 {
		t.Errorf("snapshot %+v", s)
	}
	if s.Latency.Count != 3 {
		t.Errorf("latency histogram holds %d observations, want 3", s.Latency.Count)
	}
}

func TestQueryLog(t *testing.T) {
	var logs bytes.Buffer
	ql := NewQueryLog(slog.New(slog.NewTextHandler(&logs, nil)), false)
	h, err := NewHandler(HandlerOptions{Resolver: answering(t, 1), ACL: loopbackACL, QueryLog: ql})
	if err != nil {
		t.Fatal(err)
	}
	h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeTXT, 0))
	if logs.Len() != 0 {
		t.Errorf("logged while off: %s", logs.String())
	}
	ql.SetEnabled(true)
	h.ServeDNS(udpClient("127.0.0.1"), newQuery("nope.example.com.", dns.TypeA, 0))
	line := logs.String()
	for _, want := range []string{"msg=query", "client=127.0.0.1", "qname=nope.example.com.", "qtype=A", "rcode=NXDOMAIN", "duration=", "cache=hit"} {
		if !strings.Contains(line, want) {
			t.Errorf("query log line %q lacks %q", line, want)
		}
	}
}

func TestQueryLogCacheField(t *testing.T) {
	tests := []struct {
		name string
		res  fakeResolver
		want string
	}{
		{"from the cache", answering(t, 1), "cache=hit"},
		{"walked", func(context.Context, resolver.Query) (*resolver.Result, error) {
			return &resolver.Result{Reply: new(dns.Msg), Upstream: 3}, nil
		}, "cache=miss"},
		{"stale", staleAnswering(t, dns.RcodeSuccess), "cache=stale"},
		{"failed", func(context.Context, resolver.Query) (*resolver.Result, error) {
			return nil, resolver.ErrNoReachableAuthority
		}, "cache=miss"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			ql := NewQueryLog(slog.New(slog.NewTextHandler(&logs, nil)), true)
			h, err := NewHandler(HandlerOptions{Resolver: tc.res, ACL: loopbackACL, QueryLog: ql})
			if err != nil {
				t.Fatal(err)
			}
			h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeA, 0))
			if !strings.Contains(logs.String(), tc.want+"\n") {
				t.Errorf("query log %q lacks %q", logs.String(), tc.want)
			}
		})
	}
}

func TestHandlerPassesDNSSECBits(t *testing.T) {
	tests := []struct {
		name     string
		edns     uint16
		do, cd   bool
		wantOPT  bool
		wantDO   bool // in the reply's OPT, copied (RFC 3225 section 3)
		wantBits resolver.Query
	}{
		{name: "neither, no EDNS"},
		{name: "neither, EDNS", edns: 1232, wantOPT: true},
		{name: "DO", edns: 1232, do: true, wantOPT: true, wantDO: true, wantBits: resolver.Query{DO: true}},
		{name: "CD without EDNS", cd: true, wantBits: resolver.Query{CD: true}},
		{name: "DO and CD", edns: 4096, do: true, cd: true, wantOPT: true, wantDO: true, wantBits: resolver.Query{DO: true, CD: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var asked []resolver.Query
			res := fakeResolver(func(ctx context.Context, q resolver.Query) (*resolver.Result, error) {
				asked = append(asked, q)
				return answering(t, 1)(ctx, q)
			})
			req := newQuery("www.example.com.", dns.TypeTXT, tc.edns)
			if tc.do {
				req.IsEdns0().SetDo()
			}
			req.CheckingDisabled = tc.cd
			w := udpClient("127.0.0.1")
			newTestHandler(t, res, nil).ServeDNS(w, req)

			want := tc.wantBits
			want.Question = req.Question[0]
			if len(asked) != 1 || asked[0] != want {
				t.Fatalf("resolver asked %+v, want [%+v]", asked, want)
			}
			got := w.Reply()
			if got == nil {
				t.Fatal("no reply")
			}
			if got.CheckingDisabled != tc.cd {
				t.Errorf("reply CD %v, want %v", got.CheckingDisabled, tc.cd)
			}
			opt := got.IsEdns0()
			if (opt != nil) != tc.wantOPT {
				t.Fatalf("OPT in reply %v, want %v", opt != nil, tc.wantOPT)
			}
			if opt != nil && opt.Do() != tc.wantDO {
				t.Errorf("reply DO %v, want %v", opt.Do(), tc.wantDO)
			}
		})
	}
}

func TestMetricsCountStaleReplies(t *testing.T) {
	tests := []struct {
		name      string
		res       fakeResolver
		edns      uint16
		wantStale uint64
	}{
		{"fresh", answering(t, 1), 1232, 0},
		{"stale with EDNS", staleAnswering(t, dns.RcodeSuccess), 1232, 1},
		{"stale without EDNS", staleAnswering(t, dns.RcodeSuccess), 0, 1},
		{"stale NXDOMAIN", staleAnswering(t, dns.RcodeNameError), 1232, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics()
			h, err := NewHandler(HandlerOptions{Resolver: tc.res, ACL: loopbackACL, Metrics: m})
			if err != nil {
				t.Fatal(err)
			}
			h.ServeDNS(udpClient("127.0.0.1"), newQuery("www.example.com.", dns.TypeA, tc.edns))
			if s := m.Snapshot(); s.Stale != tc.wantStale || s.Total != 1 {
				t.Errorf("stale %d of %d, want %d of 1", s.Stale, s.Total, tc.wantStale)
			}
		})
	}
}

// FuzzHandler feeds arbitrary bytes to the handler as a query from an
// allowed client, to a handler with every option on (rate limit, a
// recursion cap with a cache behind it, an identity for CHAOS): it must
// never panic (the recover would log it), must send at most one reply
// that packs, and a reply to one question must echo it.
func FuzzHandler(f *testing.F) {
	chaos := newQuery("version.bind.", dns.TypeTXT, 1232)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	// DNSSEC bits: DO (with and without AD and CD) on a question and on
	// a zone's keys.
	do := newQuery("www.example.com.", dns.TypeA, 1232)
	do.IsEdns0().SetDo()
	doADCD := newQuery("example.com.", dns.TypeDNSKEY, 4096)
	doADCD.IsEdns0().SetDo()
	doADCD.AuthenticatedData, doADCD.CheckingDisabled = true, true
	for _, q := range []*dns.Msg{newQuery("www.example.com.", dns.TypeA, 1232), newQuery("nope.example.com.", dns.TypeTXT, 0),
		newQuery("www.example.com.", dns.TypeANY, 1232), chaos, do, doADCD} {
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	cached := mapCache{fresh: map[string]*dns.Msg{"www.example.com.": {Answer: dnstest.RRs(f, "www.example.com. 60 IN A 192.0.2.1")}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil {
			return // the listener drops what does not unpack
		}
		var logs bytes.Buffer
		h, err := NewHandler(HandlerOptions{Resolver: answering(t, 3), ACL: loopbackACL, Metrics: NewMetrics(),
			RateLimit: RateLimit{QPS: 1000}, MaxRecursions: 1, Cache: cached, Identity: "fuzz", Version: "rootwalk fuzz",
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		w := udpClient("127.0.0.1")
		h.ServeDNS(w, req)
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("handler panicked on %x: %s", b, logs.String())
		}
		if len(w.Msgs) > 1 {
			t.Fatalf("%d replies", len(w.Msgs))
		}
		if got := w.Reply(); got != nil && len(req.Question) == 1 && (len(got.Question) != 1 || got.Question[0] != req.Question[0]) {
			t.Fatalf("reply question %v, want %v echoed", got.Question, req.Question)
		}
	})
}
