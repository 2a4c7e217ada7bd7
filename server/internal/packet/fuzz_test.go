package packet

import (
	"bytes"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzParseQuery: ParseQuery never panics, and whatever it accepts
// miekg/dns reads the same way.
func FuzzParseQuery(f *testing.F) {
	f.Add(pack(f, newQuery("www.example.com.", dns.TypeA, queryOpts{rd: true})))
	f.Add(pack(f, newQuery("WwW.ExAmPlE.CoM.", dns.TypeAAAA, queryOpts{rd: true, cd: true, edns: true, do: true, udpSize: 1232})))
	f.Add(rawQuery(0, 0, [4]uint16{1, 0, 0, 0}, nameOfLength(maxNameLen), typeClassA))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var q Query
		if !ParseQuery(pkt, &q) {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(pkt); err != nil {
			t.Fatalf("ParseQuery accepted what miekg/dns cannot unpack: %v", err)
		}
		if len(m.Question) != 1 {
			t.Fatalf("miekg/dns reads %d questions", len(m.Question))
		}
		mq := m.Question[0]
		wire := make([]byte, maxNameLen+1)
		n, err := dns.PackDomainName(mq.Name, wire, 0, nil, false)
		if err != nil {
			t.Fatalf("pack %q: %v", mq.Name, err)
		}
		if !bytes.Equal(asciiLower(wire[:n]), asciiLower(q.Name)) || mq.Qtype != q.Qtype || mq.Qclass != q.Qclass {
			t.Fatalf("question %v, ParseQuery read % x %d %d", mq, q.Name, q.Qtype, q.Qclass)
		}
		if m.Id != q.ID || m.RecursionDesired != q.RD || m.CheckingDisabled != q.CD || m.Response || m.Opcode != dns.OpcodeQuery {
			t.Fatalf("header %+v, ParseQuery read %+v", m.MsgHdr, q)
		}
		opt := m.IsEdns0()
		if (opt != nil) != q.EDNS {
			t.Fatalf("OPT %v, ParseQuery read EDNS %v", opt, q.EDNS)
		}
		if opt != nil && (opt.Do() != q.DO || opt.UDPSize() != q.UDPSize || opt.Version() != 0 || len(opt.Option) != 0) {
			t.Fatalf("OPT %v, ParseQuery read DO %v size %d", opt, q.DO, q.UDPSize)
		}
	})
}

// asciiLower returns b with A-Z folded, written apart from the package's
// own folding so that the fuzz test checks it.
func asciiLower(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, b)
}

// FuzzAnswer: any bytes given to Put for a fixed query never make Put or
// Answer panic, and whatever Answer writes miekg/dns unpacks into the
// stored reply with the query's ID, RD and case and lowered TTLs.
func FuzzAnswer(f *testing.F) {
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{rd: true, edns: true, udpSize: 1232})
	for _, r := range [][]dns.RR{
		rrs(f, "www.example.com. 300 IN A 192.0.2.1"),
		rrs(f, "www.example.com. 300 IN CNAME a.example.net.", "a.example.net. 60 IN A 192.0.2.2"),
	} {
		f.Add(pack(f, replyTo(query, dns.RcodeSuccess, r, nil, nil)), uint16(0x5555), uint16(7))
	}
	f.Add(pack(f, replyTo(query, dns.RcodeNameError, nil,
		rrs(f, "example.com. 900 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 900"), nil)), uint16(1), uint16(800))
	stored := pack(f, query)
	client := pack(f, newQuery("WWW.example.COM.", dns.TypeA, queryOpts{edns: true, udpSize: 1232}))
	f.Fuzz(func(t *testing.T, reply []byte, id, elapsed uint16) {
		s := mustStore(t, Options{MaxEntries: 1})
		s.Put(parse(t, stored), reply, t0)
		pkt := bytes.Clone(client)
		pkt[0], pkt[1] = byte(id>>8), byte(id)
		q := parse(t, pkt)
		out := make([]byte, maxUDPReply)
		n, ok := s.Answer(q, pkt, t0.Add(time.Duration(elapsed)*time.Second), out)
		if !ok {
			return
		}
		got := unpack(t, out[:n])
		want := unpack(t, reply)
		if got.Id != id || got.RecursionDesired || got.Question[0].Name != "WWW.example.COM." {
			t.Fatalf("header %+v, question %v; want ID %d, RD clear, the client's case", got.MsgHdr, got.Question, id)
		}
		for _, sec := range [][2][]dns.RR{{got.Answer, want.Answer}, {got.Ns, want.Ns}, {got.Extra, want.Extra}} {
			g, w := rrStrings(sec[0]), rrStrings(withTTLs(sec[1], uint32(elapsed)))
			if len(g) != len(w) {
				t.Fatalf("records %q, want %q", g, w)
			}
			for i := range g {
				if g[i] != w[i] {
					t.Fatalf("record %d: %q, want %q", i, g[i], w[i])
				}
			}
		}
	})
}
