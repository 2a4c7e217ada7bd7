package server

import (
	"context"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
)

// countingResolver answers as answering does and counts the questions.
func countingResolver(t *testing.T, asked *atomic.Int64) fakeResolver {
	answer := answering(t, 1)
	return func(ctx context.Context, q resolver.Query) (*resolver.Result, error) {
		asked.Add(1)
		return answer(ctx, q)
	}
}

// TestHandlerANY checks the RFC 8482 answer to ANY: one synthesised HINFO
// "RFC8482" "", for whatever name, with no resolution.
func TestHandlerANY(t *testing.T) {
	tests := []struct {
		name   string
		qname  string
		edns   uint16
		do     bool
		client func(string) *dnstest.Recorder
	}{
		{name: "existing name, UDP", qname: "www.example.com.", client: udpClient},
		{name: "name that does not exist", qname: "nope.example.com.", edns: 1232, client: udpClient},
		{name: "name case kept", qname: "WwW.ExAmPlE.cOm.", client: udpClient},
		{name: "the root", qname: ".", client: udpClient},
		{name: "over TCP too", qname: "www.example.com.", client: tcpClient},
		{name: "with DO", qname: "www.example.com.", edns: 4096, do: true, client: udpClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var asked atomic.Int64
			m := NewMetrics()
			h, err := NewHandler(HandlerOptions{Resolver: countingResolver(t, &asked), ACL: loopbackACL, Metrics: m})
			if err != nil {
				t.Fatal(err)
			}
			w := tc.client("127.0.0.1")
			q := newQuery(tc.qname, dns.TypeANY, tc.edns)
			if tc.do {
				q.IsEdns0().SetDo()
			}
			h.ServeDNS(w, q)
			got := w.Reply()
			if got == nil {
				t.Fatal("no reply")
			}
			if asked.Load() != 0 {
				t.Errorf("resolver asked %d times, want none", asked.Load())
			}
			if got.Rcode != dns.RcodeSuccess || got.Truncated || len(got.Ns) != 0 {
				t.Errorf("rcode %s TC %v, %d authority records; want NOERROR, no TC, no authority", dns.RcodeToString[got.Rcode], got.Truncated, len(got.Ns))
			}
			want := tc.qname + "\t3600\tIN\tHINFO\t\"RFC8482\" \"\""
			if len(got.Answer) != 1 || got.Answer[0].String() != want {
				t.Errorf("answer %v, want [%s]", got.Answer, want)
			}
			if (got.IsEdns0() != nil) != (tc.edns != 0) {
				t.Errorf("OPT %v, want %v", got.IsEdns0() != nil, tc.edns != 0)
			}
			if s := m.Snapshot(); s.ByType["ANY"] != 1 || s.ByRcode["NOERROR"] != 1 {
				t.Errorf("counted by type %v, by rcode %v; want one ANY, NOERROR", s.ByType, s.ByRcode)
			}
		})
	}
}

// TestHandlerCHAOS checks the CHAOS-class questions: answered with the
// identity and version when the identity is set, refused otherwise.
func TestHandlerCHAOS(t *testing.T) {
	const (
		identity = "resolver-1.example"
		version  = "rootwalk 1.2.3"
	)
	tests := []struct {
		name     string
		identity string
		version  string
		qname    string
		qtype    uint16
		qclass   uint16
		want     string // the TXT string; empty: REFUSED
	}{
		{name: "version.bind without identity", version: version, qname: "version.bind.", want: ""},
		{name: "id.server without identity", version: version, qname: "id.server.", want: ""},
		{name: "hostname.bind without identity", qname: "hostname.bind.", want: ""},
		{name: "id.server", identity: identity, version: version, qname: "id.server.", want: identity},
		{name: "hostname.bind", identity: identity, version: version, qname: "hostname.bind.", want: identity},
		{name: "version.bind", identity: identity, version: version, qname: "version.bind.", want: version},
		{name: "version.server", identity: identity, version: version, qname: "version.server.", want: version},
		{name: "name in any case", identity: identity, version: version, qname: "VERSION.Bind.", want: version},
		{name: "no version given", identity: identity, qname: "version.bind.", want: "rootwalk"},
		{name: "identity with a backslash and quotes", identity: `a\b "c"`, qname: "id.server.", want: `a\b "c"`},
		{name: "another name", identity: identity, qname: "authors.bind.", want: ""},
		{name: "a name under one", identity: identity, qname: "x.version.bind.", want: ""},
		{name: "type A", identity: identity, qname: "version.bind.", qtype: dns.TypeA, want: ""},
		{name: "type ANY", identity: identity, qname: "version.bind.", qtype: dns.TypeANY, want: ""},
		{name: "class IN is resolved, not answered here", identity: identity, qname: "version.bind.", qclass: dns.ClassINET, want: "IN"},
		{name: "class HESIOD", identity: identity, qname: "version.bind.", qclass: dns.ClassHESIOD, want: ""},
		{name: "class ANY", identity: identity, qname: "version.bind.", qclass: dns.ClassANY, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var asked atomic.Int64
			h, err := NewHandler(HandlerOptions{Resolver: countingResolver(t, &asked), ACL: loopbackACL,
				Identity: tc.identity, Version: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			q := newQuery(tc.qname, dns.TypeTXT, 1232)
			if tc.qtype != 0 {
				q.Question[0].Qtype = tc.qtype
			}
			q.Question[0].Qclass = dns.ClassCHAOS
			if tc.qclass != 0 {
				q.Question[0].Qclass = tc.qclass
			}
			w := udpClient("127.0.0.1")
			h.ServeDNS(w, q)
			got := w.Reply()
			if got == nil {
				t.Fatal("no reply")
			}
			if tc.want == "IN" {
				if asked.Load() != 1 {
					t.Errorf("class IN: resolver asked %d times, want 1", asked.Load())
				}
				return
			}
			if asked.Load() != 0 {
				t.Errorf("resolver asked %d times, want none", asked.Load())
			}
			if tc.want == "" {
				if got.Rcode != dns.RcodeRefused || len(got.Answer) != 0 {
					t.Errorf("rcode %s with %v, want REFUSED and no answer", dns.RcodeToString[got.Rcode], got.Answer)
				}
				return
			}
			if got.Rcode != dns.RcodeSuccess || len(got.Answer) != 1 {
				t.Fatalf("rcode %s with %v, want NOERROR and one TXT", dns.RcodeToString[got.Rcode], got.Answer)
			}
			txt, ok := got.Answer[0].(*dns.TXT)
			if !ok || txt.Hdr.Class != dns.ClassCHAOS || txt.Hdr.Ttl != 0 || txt.Hdr.Name != tc.qname {
				t.Fatalf("answer %v, want a CH TXT with TTL 0 owned by %s", got.Answer[0], tc.qname)
			}
			// The recorder's reply went through Pack and Unpack, which
			// escape quotes and backslashes again in presentation form.
			text := strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(strings.Join(txt.Txt, ""))
			if text != tc.want {
				t.Errorf("TXT %q, want %q", text, tc.want)
			}
		})
	}
}

// TestNewHandlerOptions checks that options out of range are refused.
func TestNewHandlerOptions(t *testing.T) {
	res := answering(t, 1)
	tests := []struct {
		name    string
		opts    HandlerOptions
		wantErr string
	}{
		{"no resolver", HandlerOptions{}, "no resolver"},
		{"ACL action", HandlerOptions{Resolver: res, ACLAction: 7}, "ACL action 7"},
		{"rate limit action", HandlerOptions{Resolver: res, RateLimit: RateLimit{QPS: 1, Action: -1}}, "rate limit action -1"},
		{"negative rate", HandlerOptions{Resolver: res, RateLimit: RateLimit{QPS: -1}}, "rate limit -1"},
		{"NaN rate", HandlerOptions{Resolver: res, RateLimit: RateLimit{QPS: math.NaN()}}, "rate limit NaN"},
		{"infinite rate", HandlerOptions{Resolver: res, RateLimit: RateLimit{QPS: math.Inf(1)}}, "rate limit +Inf"},
		{"negative burst", HandlerOptions{Resolver: res, RateLimit: RateLimit{QPS: 1, Burst: -1}}, "burst -1"},
		{"negative recursions", HandlerOptions{Resolver: res, MaxRecursions: -1}, "max recursions -1"},
		{"identity too long", HandlerOptions{Resolver: res, Identity: strings.Repeat("i", 256)}, "identity of 256 bytes"},
		{"version too long", HandlerOptions{Resolver: res, Identity: "i", Version: strings.Repeat("v", 256)}, "version of 256"},
		{"all good", HandlerOptions{Resolver: res, ACLAction: ActionDrop, RateLimit: RateLimit{QPS: 0.5, Action: ActionDrop},
			MaxRecursions: 1, Identity: strings.Repeat("i", 255)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHandler(tc.opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}
