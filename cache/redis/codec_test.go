package redis

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

func query(name string, qtype uint16, do, cd bool) Query {
	return Query{Question: dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}, DO: do, CD: cd}
}

func answerMsg(t testing.TB, rcode int, lines ...string) *dns.Msg {
	m := new(dns.Msg)
	m.Rcode = rcode
	m.Answer = dnstest.RRs(t, lines...)
	return m
}

func TestCodecRoundTrip(t *testing.T) {
	m := answerMsg(t, dns.RcodeSuccess, "www.example.com. 300 IN A 192.0.2.1")
	m.AuthenticatedData = true
	packed, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	stored := time.Unix(1_700_000_000, 123)
	in := entry{q: query("WWW.Example.COM.", dns.TypeA, true, false), stored: stored, expires: stored.Add(300 * time.Second), packed: packed}
	e, got, err := decode(encode(in))
	if err != nil {
		t.Fatal(err)
	}
	if e.q.Name != "www.example.com." || !e.q.DO || e.q.CD || e.q.Qtype != dns.TypeA || e.q.Qclass != dns.ClassINET {
		t.Errorf("question = %+v, want www.example.com. A IN with DO only", e.q)
	}
	if !e.stored.Equal(in.stored) || !e.expires.Equal(in.expires) {
		t.Errorf("times = %v, %v; want %v, %v", e.stored, e.expires, in.stored, in.expires)
	}
	if !got.AuthenticatedData || len(got.Answer) != 1 || got.Answer[0].String() != m.Answer[0].String() {
		t.Errorf("answer = %v, want %v with AD", got, m)
	}
}

func TestDecodeRefusesBadValues(t *testing.T) {
	good := encode(entry{q: query("a.example.", dns.TypeA, false, false), packed: []byte{}})
	cases := map[string][]byte{
		"empty":         nil,
		"short":         good[:headerSize-1],
		"other version": append([]byte{codecVersion + 1}, good[1:]...),
		"name cut":      good[:len(good)-2],
		"not a name":    bytes.Replace(good, []byte("a.example."), []byte("a..xample."), 1),
	}
	for name, b := range cases {
		if _, err := decodeHeader(b); !errors.Is(err, errBadValue) {
			t.Errorf("%s: decodeHeader err = %v, want errBadValue", name, err)
		}
	}
	if _, _, err := decode(good); !errors.Is(err, errBadValue) {
		t.Errorf("a value with no message: decode err = %v, want errBadValue", err)
	}
}

func TestKeysSeparateWhatMustNotMeet(t *testing.T) {
	k := newKeys("seed")
	base := k.answer(query("www.example.com.", dns.TypeA, false, false))
	if got := k.answer(query("WWW.EXAMPLE.COM", dns.TypeA, false, false)); got != base {
		t.Errorf("case and the final dot changed the key: %s != %s", got, base)
	}
	others := map[string]string{
		"DO":         k.answer(query("www.example.com.", dns.TypeA, true, false)),
		"CD":         k.answer(query("www.example.com.", dns.TypeA, false, true)),
		"type":       k.answer(query("www.example.com.", dns.TypeAAAA, false, false)),
		"name":       k.answer(query("ww.example.com.", dns.TypeA, false, false)),
		"other seed": newKeys("other").answer(query("www.example.com.", dns.TypeA, false, false)),
	}
	for what, key := range others {
		if key == base {
			t.Errorf("%s did not change the key", what)
		}
	}
	if newKeys("seed").prefix == newKeys("other").prefix {
		t.Error("two seeds share a prefix")
	}
}

func TestMinTTL(t *testing.T) {
	m := answerMsg(t, dns.RcodeSuccess, "a.example. 300 IN CNAME b.example.", "b.example. 60 IN A 192.0.2.1")
	m.SetEdns0(1232, true)
	if ttl, ok := minTTL(m); !ok || ttl != 60 {
		t.Errorf("minTTL = %d, %v; want 60, true (the OPT record ignored)", ttl, ok)
	}
	if _, ok := minTTL(new(dns.Msg)); ok {
		t.Error("minTTL of an empty message reported a TTL")
	}
}

// FuzzDecode feeds decode arbitrary values, as a Redis anyone could write
// to might hold: it must refuse them with an error, never panic.
func FuzzDecode(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	packed, _ := m.Pack()
	f.Add(encode(entry{q: query("www.example.com.", dns.TypeA, true, true), packed: packed}))
	f.Add([]byte{codecVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, msg, err := decode(b)
		if err != nil {
			return
		}
		if msg == nil || !dns.IsFqdn(e.q.Name) {
			t.Fatalf("decode accepted %q as %+v, %v", b, e.q, msg)
		}
	})
}
