package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
)

// scripted is a resolver that replays events and then answers.
type scripted struct {
	events []resolver.Event
	reply  *dns.Msg
	err    error
}

func (s scripted) Resolve(ctx context.Context, q dns.Question) (*resolver.Result, error) {
	t := resolver.ContextTracer(ctx)
	for _, e := range s.events {
		e.Question = q
		t.Event(e)
	}
	if s.err != nil {
		return nil, s.err
	}
	return &resolver.Result{Reply: s.reply, Upstream: 2}, nil
}

func referralMsg(t *testing.T) *dns.Msg {
	m := &dns.Msg{
		Ns:    dnstest.RRs(t, "example.test. 60 IN NS ns1.example.test.", "example.test. 60 IN NS ns.elsewhere."),
		Extra: dnstest.RRs(t, "ns1.example.test. 60 IN A 127.0.0.2"),
	}
	m.Response = true
	return m
}

func TestRunAndText(t *testing.T) {
	answer := &dns.Msg{Answer: dnstest.RRs(t, `www.example.test. 60 IN TXT "a  b"`)}
	answer.Response, answer.Authoritative = true, true
	root := netip.MustParseAddrPort("127.0.0.1:53")
	child := netip.MustParseAddrPort("127.0.0.2:53")
	res := scripted{
		events: []resolver.Event{
			{Kind: resolver.EventStart, Zone: ".", Target: "hints"},
			{Kind: resolver.EventQuery, Zone: ".", Server: "a.root.test.", Addr: root},
			{Kind: resolver.EventReply, Zone: ".", Server: "a.root.test.", Addr: root, RTT: 1500 * time.Microsecond,
				Outcome: "referral", Target: "example.test.", Reply: referralMsg(t)},
			{Kind: resolver.EventQuery, Zone: "example.test.", Server: "ns1.example.test.", Addr: child},
			{Kind: resolver.EventTCPRetry, Zone: "example.test.", Server: "ns1.example.test.", Addr: child},
			{Kind: resolver.EventReply, Zone: "example.test.", Server: "ns1.example.test.", Addr: child, RTT: time.Millisecond,
				TCP: true, Outcome: "answer", Reply: answer},
		},
		reply: answer,
	}
	tr := Run(t.Context(), res, dns.Question{Name: "www.example.test.", Qtype: dns.TypeTXT, Qclass: dns.ClassINET}, "a test")

	if tr.Rcode != "NOERROR" || tr.Upstream != 2 || len(tr.Steps) != 6 || tr.Type != "TXT" {
		t.Fatalf("trace %+v", tr)
	}
	if got := tr.Answer[0]; got != `www.example.test. 60 TXT "a  b"` {
		t.Errorf("answer record %q: the TXT's inner spaces must survive", got)
	}
	ref := tr.Steps[2]
	if ref.RTTMS != 1.5 || ref.Flags != "qr" || strings.Join(ref.Servers, ", ") != "ns1.example.test. (127.0.0.2), ns.elsewhere. (no glue)" {
		t.Errorf("referral step %+v", ref)
	}

	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var back Trace
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var plain, fromJSON, colour bytes.Buffer
	if err := WriteText(&plain, tr, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&fromJSON, &back, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if plain.String() != fromJSON.String() {
		t.Errorf("the text of a trace differs after a JSON round trip:\n%s\n---\n%s", plain.String(), fromJSON.String())
	}
	want := []string{
		";; rootwalk trace www.example.test. TXT: a test",
		"www.example.test. TXT  start at . (the root hints)",
		". (root)  ask a.root.test. (127.0.0.1)  1.50 ms  → referral to example.test.: ns1.example.test. (127.0.0.2), ns.elsewhere. (no glue)",
		"└─ example.test.  ask ns1.example.test. (127.0.0.2)  1.00 ms  truncated over UDP, asked again over TCP  → answer (authoritative)",
		`      www.example.test. 60 TXT "a  b"`,
		";; NOERROR in ",
	}
	for _, w := range want {
		if !strings.Contains(plain.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, plain.String())
		}
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("colour codes without Color")
	}
	if err := WriteText(&colour, tr, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(colour.String(), "\x1b[32manswer\x1b[0m") {
		t.Errorf("no colour with Color:\n%q", colour.String())
	}
}

func TestRunFailure(t *testing.T) {
	res := scripted{
		events: []resolver.Event{
			{Kind: resolver.EventStart, Zone: ".", Target: "hints"},
			{Kind: resolver.EventQuery, Zone: ".", Server: "a.root.test.", Addr: netip.MustParseAddrPort("127.0.0.1:53")},
			{Kind: resolver.EventError, Zone: ".", Server: "a.root.test.", Addr: netip.MustParseAddrPort("127.0.0.1:53"), Err: resolver.ErrTimeout},
		},
		err: errors.Join(resolver.ErrNoReachableAuthority),
	}
	tr := Run(t.Context(), res, dns.Question{Name: "x.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, "")
	if tr.Rcode != "SERVFAIL" || tr.Error == "" || tr.Upstream != 1 {
		t.Errorf("trace %+v", tr)
	}
	var b bytes.Buffer
	if err := WriteText(&b, tr, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{". (root)  ask a.root.test. (127.0.0.1)  ✗ timeout", ";; SERVFAIL in ", ";; no reachable authority"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, b.String())
		}
	}
}
