package packet

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/miekg/dns"
)

// rawQuery assembles a query by hand: header bytes 2 and 3, the four
// counts, then body.
func rawQuery(flags2, flags3 byte, counts [4]uint16, body ...[]byte) []byte {
	b := []byte{0x12, 0x34, flags2, flags3}
	for _, c := range counts {
		b = binary.BigEndian.AppendUint16(b, c)
	}
	for _, part := range body {
		b = append(b, part...)
	}
	return b
}

// Parts of hand-made queries.
var (
	wwwExample = []byte("\x03www\x07example\x03com\x00")
	typeClassA = []byte{0, 1, 0, 1}
	// optRR is an OPT record for the root: payload 1232, DO, no options.
	optRR = []byte{0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0}
)

// label returns a wire label of n bytes of 'a'.
func label(n int) []byte {
	return append([]byte{byte(n)}, bytes.Repeat([]byte{'a'}, n)...)
}

// nameOfLength returns a wire name of exactly n bytes, root included.
func nameOfLength(n int) []byte {
	var name []byte
	for n-1-len(name) > 64 {
		name = append(name, label(63)...)
	}
	if rest := n - 1 - len(name); rest > 0 {
		name = append(name, label(rest-1)...)
	}
	return append(name, 0)
}

// withOPT returns optRR changed by f.
func withOPT(f func(rr []byte) []byte) []byte {
	return f(bytes.Clone(optRR))
}

func TestParseQueryAccepts(t *testing.T) {
	maxName := nameOfLength(maxNameLen)
	tests := []struct {
		name string
		pkt  []byte
		want Query
	}{
		{"plain", pack(t, newQuery("www.example.com.", dns.TypeA, queryOpts{id: 7, rd: true})),
			Query{ID: 7, RD: true, Name: wwwExample, Qtype: dns.TypeA, Qclass: dns.ClassINET}},
		{"EDNS", pack(t, newQuery("www.example.com.", dns.TypeAAAA, queryOpts{id: 8, rd: true, edns: true, udpSize: 1232})),
			Query{ID: 8, RD: true, Name: wwwExample, Qtype: dns.TypeAAAA, Qclass: dns.ClassINET, EDNS: true, UDPSize: 1232}},
		{"EDNS DO", pack(t, newQuery("www.example.com.", dns.TypeA, queryOpts{edns: true, do: true, udpSize: 4096})),
			Query{Name: wwwExample, Qtype: dns.TypeA, Qclass: dns.ClassINET, EDNS: true, DO: true, UDPSize: 4096}},
		{"CD", pack(t, newQuery("www.example.com.", dns.TypeA, queryOpts{cd: true, rd: true})),
			Query{RD: true, CD: true, Name: wwwExample, Qtype: dns.TypeA, Qclass: dns.ClassINET}},
		{"upper case kept", pack(t, newQuery("WwW.ExAmPlE.CoM.", dns.TypeMX, queryOpts{id: 9})),
			Query{ID: 9, Name: []byte("\x03WwW\x07ExAmPlE\x03CoM\x00"), Qtype: dns.TypeMX, Qclass: dns.ClassINET}},
		{"root", pack(t, newQuery(".", dns.TypeNS, queryOpts{})),
			Query{Name: []byte{0}, Qtype: dns.TypeNS, Qclass: dns.ClassINET}},
		{"CHAOS class", pack(t, newQuery("version.bind.", dns.TypeTXT, queryOpts{qclass: dns.ClassCHAOS})),
			Query{Name: []byte("\x07version\x04bind\x00"), Qtype: dns.TypeTXT, Qclass: dns.ClassCHAOS}},
		{"name of 255 bytes", rawQuery(0, 0, [4]uint16{1, 0, 0, 0}, maxName, typeClassA),
			Query{ID: 0x1234, Name: maxName, Qtype: dns.TypeA, Qclass: dns.ClassINET}},
		{"label of 63 bytes", rawQuery(0, 0, [4]uint16{1, 0, 0, 0}, label(63), []byte{0}, typeClassA),
			Query{ID: 0x1234, Name: append(label(63), 0), Qtype: dns.TypeA, Qclass: dns.ClassINET}},
		{"OPT with Z bits", rawQuery(0, 0, [4]uint16{1, 0, 0, 1}, wwwExample, typeClassA,
			withOPT(func(rr []byte) []byte { rr[8] = 0x01; return rr })),
			Query{ID: 0x1234, Name: wwwExample, Qtype: dns.TypeA, Qclass: dns.ClassINET, EDNS: true, DO: true, UDPSize: 1232}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Query
			if !ParseQuery(tt.pkt, &got) {
				t.Fatalf("ParseQuery(% x) = false, want true", tt.pkt)
			}
			if !bytes.Equal(got.Name, tt.want.Name) {
				t.Errorf("Name = %q, want %q", got.Name, tt.want.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseQueryRejects(t *testing.T) {
	q := func(flags2, flags3 byte, counts [4]uint16, body ...[]byte) []byte {
		return rawQuery(flags2, flags3, counts, body...)
	}
	one := [4]uint16{1, 0, 0, 0}
	withOPTRR := [4]uint16{1, 0, 0, 1}
	aRecord := []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1}
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"header only", q(0, 0, one)},
		{"QR set", q(bitQR, 0, one, wwwExample, typeClassA)},
		{"opcode NOTIFY", q(dns.OpcodeNotify<<3, 0, one, wwwExample, typeClassA)},
		{"opcode UPDATE", q(dns.OpcodeUpdate<<3, 0, one, wwwExample, typeClassA)},
		{"TC set", q(bitTC, 0, one, wwwExample, typeClassA)},
		{"rcode set", q(0, dns.RcodeNameError, one, wwwExample, typeClassA)},
		{"no question", q(0, 0, [4]uint16{0, 0, 0, 0})},
		{"two questions", q(0, 0, [4]uint16{2, 0, 0, 0}, wwwExample, typeClassA, wwwExample, typeClassA)},
		{"an answer record", q(0, 0, [4]uint16{1, 1, 0, 0}, wwwExample, typeClassA, aRecord)},
		{"an authority record", q(0, 0, [4]uint16{1, 0, 1, 0}, wwwExample, typeClassA, aRecord)},
		{"two additional records", q(0, 0, [4]uint16{1, 0, 0, 2}, wwwExample, typeClassA, optRR, optRR)},
		{"additional record not OPT", q(0, 0, withOPTRR, wwwExample, typeClassA, aRecord)},
		{"OPT not for the root", q(0, 0, withOPTRR, wwwExample, typeClassA, []byte{1, 'a', 0}, optRR[1:])},
		{"OPT version 1", q(0, 0, withOPTRR, wwwExample, typeClassA, withOPT(func(rr []byte) []byte { rr[6] = 1; return rr }))},
		{"OPT extended rcode", q(0, 0, withOPTRR, wwwExample, typeClassA, withOPT(func(rr []byte) []byte { rr[5] = 1; return rr }))},
		{"OPT with a cookie", q(0, 0, withOPTRR, wwwExample, typeClassA, withOPT(func(rr []byte) []byte {
			rr[10] = 12
			return append(rr, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8)
		}))},
		{"OPT with padding", q(0, 0, withOPTRR, wwwExample, typeClassA, withOPT(func(rr []byte) []byte {
			rr[10] = 4
			return append(rr, 0, 12, 0, 0)
		}))},
		{"OPT cut short", q(0, 0, withOPTRR, wwwExample, typeClassA, optRR[:10])},
		{"compression pointer in name", q(0, 0, one, []byte{3, 'w', 'w', 'w', 0xc0, 12}, typeClassA)},
		{"pointer as the whole name", q(0, 0, one, []byte{0xc0, 12}, typeClassA)},
		{"label of 64 bytes", q(0, 0, one, label(64), []byte{0}, typeClassA)},
		{"label type 0x80", q(0, 0, one, []byte{0x81, 'a', 0}, typeClassA)},
		{"name of 256 bytes", q(0, 0, one, nameOfLength(maxNameLen+1), typeClassA)},
		{"no type and class", q(0, 0, one, wwwExample)},
		{"byte after the question", q(0, 0, one, wwwExample, typeClassA, []byte{0})},
		{"byte after the OPT record", q(0, 0, withOPTRR, wwwExample, typeClassA, optRR, []byte{0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := Query{ID: 42}
			if ParseQuery(tt.pkt, &q) {
				t.Fatalf("ParseQuery(% x) = true (%+v), want false", tt.pkt, q)
			}
			if q.ID != 42 {
				t.Errorf("a rejected packet changed q: %+v", q)
			}
		})
	}
}

// Every proper prefix of a valid query is rejected, without a panic.
func TestParseQueryTruncated(t *testing.T) {
	for _, pkt := range [][]byte{
		pack(t, newQuery("www.example.com.", dns.TypeA, queryOpts{rd: true})),
		pack(t, newQuery("www.example.com.", dns.TypeA, queryOpts{edns: true, do: true, udpSize: 1232})),
		rawQuery(0, 0, [4]uint16{1, 0, 0, 0}, nameOfLength(maxNameLen), typeClassA),
	} {
		parse(t, pkt)
		for i := range len(pkt) {
			var q Query
			if ParseQuery(pkt[:i], &q) {
				t.Errorf("ParseQuery(first %d of %d bytes) = true, want false", i, len(pkt))
			}
		}
	}
}

// The name of 255 bytes is the longest miekg/dns unpacks too: the limit
// agrees with the full path's.
func TestMaxNameAgreesWithMiekg(t *testing.T) {
	for _, tt := range []struct {
		length int
		ok     bool
	}{{maxNameLen, true}, {maxNameLen + 1, false}} {
		pkt := rawQuery(0, 0, [4]uint16{1, 0, 0, 0}, nameOfLength(tt.length), typeClassA)
		var q Query
		err := new(dns.Msg).Unpack(pkt)
		if got := ParseQuery(pkt, &q); got != tt.ok || (err == nil) != tt.ok {
			t.Errorf("name of %d bytes: ParseQuery = %v, miekg/dns Unpack error %v; want both to say %v", tt.length, got, err, tt.ok)
		}
	}
}

func TestParseQueryDoesNotAllocate(t *testing.T) {
	pkt := pack(t, newQuery("www.example.com.", dns.TypeA, queryOpts{edns: true, udpSize: 1232}))
	var q Query
	if n := testing.AllocsPerRun(1000, func() { ParseQuery(pkt, &q) }); n != 0 {
		t.Errorf("ParseQuery allocates %v times, want 0", n)
	}
}
