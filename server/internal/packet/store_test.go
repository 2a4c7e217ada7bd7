package packet

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// roundTripCase is a reply the full path sent to a query for qname; a
// client then asks clientName (another case) with another ID.
type roundTripCase struct {
	name       string
	qname      string
	clientName string
	qtype      uint16
	opts       queryOpts
	rcode      int
	answer     []string
	ns         []string
	extra      []string
}

func TestPutAnswerRoundTrip(t *testing.T) {
	tests := []roundTripCase{
		{name: "A with CNAME chain", qname: "www.example.com.", clientName: "WwW.eXaMpLe.CoM.", qtype: dns.TypeA,
			opts: queryOpts{rd: true}, rcode: dns.RcodeSuccess,
			answer: []string{
				"www.example.com. 300 IN CNAME a.example.net.",
				"a.example.net. 200 IN CNAME b.example.org.",
				"b.example.org. 100 IN A 192.0.2.1",
			}},
		{name: "NXDOMAIN with SOA", qname: "nx.example.com.", clientName: "Nx.ExAmple.COM.", qtype: dns.TypeA,
			opts: queryOpts{rd: true}, rcode: dns.RcodeNameError,
			ns: []string{"example.com. 900 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 900"}},
		{name: "EDNS and DO", qname: "signed.example.com.", clientName: "SIGNED.example.com.", qtype: dns.TypeA,
			opts: queryOpts{rd: true, edns: true, do: true, udpSize: 1232}, rcode: dns.RcodeSuccess,
			answer: []string{
				"signed.example.com. 3600 IN A 192.0.2.7",
				"signed.example.com. 3600 IN RRSIG A 13 3 3600 20260201000000 20260101000000 12345 example.com. dGVzdHNpZ25hdHVyZQ==",
			}},
		{name: "compressed names", qname: "example.com.", clientName: "ExAmPlE.cOm.", qtype: dns.TypeMX,
			opts: queryOpts{edns: true, udpSize: 1232}, rcode: dns.RcodeSuccess,
			answer: []string{"example.com. 600 IN MX 10 mail.example.com.", "example.com. 600 IN MX 20 mx2.example.com."},
			ns:     []string{"example.com. 86400 IN NS ns1.example.com."},
			extra:  []string{"mail.example.com. 60 IN A 192.0.2.25", "ns1.example.com. 86400 IN A 192.0.2.53"}},
	}
	const elapsed = 7 // seconds between Put and Answer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStore(t, Options{})
			query := newQuery(tt.qname, tt.qtype, tt.opts)
			query.Id = 1
			reply := replyTo(query, tt.rcode, rrs(t, tt.answer...), rrs(t, tt.ns...), rrs(t, tt.extra...))
			s.Put(parse(t, pack(t, query)), pack(t, reply), t0)
			if s.Len() != 1 {
				t.Fatalf("Len after Put = %d, want 1", s.Len())
			}

			opts := tt.opts
			opts.id, opts.rd = 0xbeef, !tt.opts.rd
			client := newQuery(tt.clientName, tt.qtype, opts)
			pkt := pack(t, client)
			out := make([]byte, maxUDPReply)
			n, ok := s.Answer(parse(t, pkt), pkt, t0.Add(elapsed*time.Second), out)
			if !ok {
				t.Fatalf("Answer missed")
			}
			got := unpack(t, out[:n])
			checkReplay(t, got, client, reply, elapsed)
		})
	}
}

// checkReplay compares a replayed reply to what the full path would have
// sent client elapsed seconds after reply.
func checkReplay(t *testing.T, got, client, reply *dns.Msg, elapsed uint32) {
	t.Helper()
	if got.Id != client.Id || got.RecursionDesired != client.RecursionDesired {
		t.Errorf("ID %#x RD %v, want %#x %v", got.Id, got.RecursionDesired, client.Id, client.RecursionDesired)
	}
	if got.Rcode != reply.Rcode || !got.Response || got.CheckingDisabled != reply.CheckingDisabled || !got.RecursionAvailable {
		t.Errorf("header %+v, want rcode %d, QR, RA and CD %v", got.MsgHdr, reply.Rcode, reply.CheckingDisabled)
	}
	if len(got.Question) != 1 || got.Question[0] != client.Question[0] {
		t.Errorf("question %v, want the client's %v", got.Question, client.Question)
	}
	for _, sec := range []struct {
		name      string
		got, want []dns.RR
	}{
		{"answer", got.Answer, reply.Answer},
		{"authority", got.Ns, reply.Ns},
		{"additional", got.Extra, reply.Extra},
	} {
		if g, w := rrStrings(sec.got), rrStrings(withTTLs(sec.want, elapsed)); !slices.Equal(g, w) {
			t.Errorf("%s:\ngot  %q\nwant %q", sec.name, g, w)
		}
	}
	gotOPT, wantOPT := got.IsEdns0(), reply.IsEdns0()
	switch {
	case (gotOPT == nil) != (wantOPT == nil):
		t.Errorf("OPT %v, want %v", gotOPT, wantOPT)
	case gotOPT != nil && (gotOPT.Do() != wantOPT.Do() || gotOPT.UDPSize() != wantOPT.UDPSize()):
		t.Errorf("OPT DO %v size %d, want %v %d", gotOPT.Do(), gotOPT.UDPSize(), wantOPT.Do(), wantOPT.UDPSize())
	}
}

// Owner names compressed to the question show the client's case, as the
// question itself does ("0x20": see doc.go).
func TestAnswerCaseOfCompressedNames(t *testing.T) {
	s := mustStore(t, Options{})
	query := newQuery("example.com.", dns.TypeMX, queryOpts{})
	reply := replyTo(query, dns.RcodeSuccess, rrs(t, "example.com. 600 IN MX 10 mail.example.com."), nil, nil)
	packed := pack(t, reply)
	plain := reply.Copy()
	plain.Compress = false
	uncompressed, err := plain.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	if len(packed) >= len(uncompressed) {
		t.Fatalf("reply not compressed: %d bytes, %d uncompressed", len(packed), len(uncompressed))
	}
	s.Put(parse(t, pack(t, query)), packed, t0)
	pkt := pack(t, newQuery("eXaMpLe.COM.", dns.TypeMX, queryOpts{}))
	out := make([]byte, maxUDPReply)
	n, ok := s.Answer(parse(t, pkt), pkt, t0, out)
	if !ok {
		t.Fatal("Answer missed")
	}
	got := unpack(t, out[:n])
	mx, _ := got.Answer[0].(*dns.MX)
	if mx == nil || mx.Hdr.Name != "eXaMpLe.COM." || mx.Mx != "mail.eXaMpLe.COM." || mx.Hdr.Ttl != 600 {
		t.Errorf("answer %v, want owner eXaMpLe.COM., exchange mail.eXaMpLe.COM. and TTL 600", got.Answer)
	}
}

func TestPutRefuses(t *testing.T) {
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{rd: true, edns: true, udpSize: 1232})
	a := func(t *testing.T) []dns.RR { return rrs(t, "www.example.com. 300 IN A 192.0.2.1") }
	tests := []struct {
		name  string
		reply func(t *testing.T) []byte
		want  error
	}{
		{"SERVFAIL", func(t *testing.T) []byte { return pack(t, replyTo(query, dns.RcodeServerFailure, nil, nil, nil)) }, errRcode},
		{"REFUSED", func(t *testing.T) []byte { return pack(t, replyTo(query, dns.RcodeRefused, nil, nil, nil)) }, errRcode},
		{"TC", func(t *testing.T) []byte {
			r := replyTo(query, dns.RcodeSuccess, a(t), nil, nil)
			r.Truncated = true
			return pack(t, r)
		}, errTruncated},
		{"TTL 0", func(t *testing.T) []byte {
			return pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 0 IN A 192.0.2.1"), nil, nil))
		}, errTTL},
		{"TTL with the top bit", func(t *testing.T) []byte {
			return pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 2147483648 IN A 192.0.2.1"), nil, nil))
		}, errTTL},
		{"no record", func(t *testing.T) []byte { return pack(t, replyTo(query, dns.RcodeSuccess, nil, nil, nil)) }, errNoTTL},
		{"EDE option", func(t *testing.T) []byte {
			r := replyTo(query, dns.RcodeSuccess, a(t), nil, nil)
			r.IsEdns0().Option = append(r.IsEdns0().Option, &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeStaleAnswer})
			return pack(t, r)
		}, errOPT},
		{"cookie option", func(t *testing.T) []byte {
			r := replyTo(query, dns.RcodeSuccess, a(t), nil, nil)
			r.IsEdns0().Option = append(r.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
			return pack(t, r)
		}, errOPT},
		{"question differs", func(t *testing.T) []byte {
			other := newQuery("www.example.net.", dns.TypeA, queryOpts{edns: true, udpSize: 1232})
			return pack(t, replyTo(other, dns.RcodeSuccess, a(t), nil, nil))
		}, errQuestion},
		{"qtype differs", func(t *testing.T) []byte {
			other := newQuery("www.example.com.", dns.TypeAAAA, queryOpts{edns: true, udpSize: 1232})
			return pack(t, replyTo(other, dns.RcodeSuccess, a(t), nil, nil))
		}, errQuestion},
		{"a query", func(t *testing.T) []byte { return pack(t, query) }, errNotReply},
		{"longer than 1232 bytes", func(t *testing.T) []byte {
			var answer []dns.RR
			for i := range 80 {
				answer = append(answer, &dns.A{Hdr: dns.RR_Header{Name: "www.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, byte(i)}})
			}
			return pack(t, replyTo(query, dns.RcodeSuccess, answer, nil, nil))
		}, errTooLong},
		{"trailing byte", func(t *testing.T) []byte { return append(pack(t, replyTo(query, dns.RcodeSuccess, a(t), nil, nil)), 0) }, errMalformed},
		{"bad A RDATA", func(t *testing.T) []byte {
			b := pack(t, replyTo(query, dns.RcodeSuccess, a(t), nil, nil))
			// The A record's RDLENGTH 4 → 3, and one byte fewer: the walk
			// passes, miekg/dns does not.
			i := strings.Index(string(b), "\x00\x04\xc0\x00\x02\x01")
			b[i+1] = 3
			return append(b[:i+5], b[i+6:]...)
		}, errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := parse(t, pack(t, query))
			reply := tt.reply(t)
			_, err := newEntry(q, reply, t0)
			if !errors.Is(err, tt.want) {
				t.Errorf("newEntry error %v, want %v", err, tt.want)
			}
			t.Logf("not stored: %v", err)
			s := mustStore(t, Options{})
			s.Put(q, reply, t0)
			if s.Len() != 0 || s.Stats().Stored != 0 {
				t.Errorf("stored: Len %d, Stats %+v", s.Len(), s.Stats())
			}
		})
	}
}

// An entry is replayed for 90% of its smallest TTL, rounded up to whole
// seconds, and then left to the full path.
func TestAnswerExpiry(t *testing.T) {
	for _, tt := range []struct {
		minTTL   uint32
		lifetime time.Duration
	}{{100, 90 * time.Second}, {300, 270 * time.Second}, {15, 14 * time.Second}, {1, time.Second}} {
		query := newQuery("www.example.com.", dns.TypeA, queryOpts{})
		reply := replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 86400 IN CNAME a.example.com."), nil, nil)
		reply.Answer = append(reply.Answer, &dns.A{Hdr: dns.RR_Header{Name: "a.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: tt.minTTL}, A: []byte{192, 0, 2, 1}})
		s := mustStore(t, Options{})
		pkt := pack(t, query)
		q := parse(t, pkt)
		s.Put(q, pack(t, reply), t0)
		out := make([]byte, maxUDPReply)
		n, ok := s.Answer(q, pkt, t0.Add(tt.lifetime-time.Millisecond), out)
		if !ok {
			t.Fatalf("min TTL %d: miss just before %v", tt.minTTL, tt.lifetime)
		}
		last := unpack(t, out[:n])
		wantTTL := tt.minTTL - uint32((tt.lifetime-time.Millisecond)/time.Second)
		if got := last.Answer[1].Header().Ttl; got != wantTTL || got == 0 {
			t.Errorf("min TTL %d: last TTL replayed %d, want %d", tt.minTTL, got, wantTTL)
		}
		if _, ok := s.Answer(q, pkt, t0.Add(tt.lifetime), out); ok {
			t.Errorf("min TTL %d: hit at %v, want a miss", tt.minTTL, tt.lifetime)
		}
	}
}

// A clock that steps back replays the TTLs as stored.
func TestAnswerClockBack(t *testing.T) {
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{})
	s := mustStore(t, Options{})
	pkt := pack(t, query)
	q := parse(t, pkt)
	s.Put(q, pack(t, replyTo(query, dns.RcodeSuccess, rrs(t, "www.example.com. 60 IN A 192.0.2.1"), nil, nil)), t0)
	out := make([]byte, maxUDPReply)
	n, ok := s.Answer(q, pkt, t0.Add(-time.Hour), out)
	if !ok {
		t.Fatal("Answer missed")
	}
	if ttl := unpack(t, out[:n]).Answer[0].Header().Ttl; ttl != 60 {
		t.Errorf("TTL %d, want 60", ttl)
	}
}

// A compression pointer into a TTL (found by FuzzAnswer): the name read
// through it would change as Answer lowers the TTL. Put re-packs the
// reply, so the name is written out and stays the same.
func TestPointerIntoTTL(t *testing.T) {
	query := newQuery("www.example.com.", dns.TypeA, queryOpts{rd: true})
	pkt := pack(t, query)
	reply := []byte{0, 0, bitQR | bitRD, 0x80, 0, 1, 0, 2, 0, 0, 0, 0}
	reply = append(reply, wwwExample...)
	reply = append(reply, typeClassA...)
	// Offset 33: www.example.com. 300 A 192.0.2.1, its TTL at 39..42.
	reply = append(reply, 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 1)
	// Offset 49: an owner pointing at offset 41, the TTL's last two bytes
	// (label 1 ","), then RDLENGTH's first byte (0, the root).
	reply = append(reply, 0xc0, 41, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 2)
	before := unpack(t, reply)
	if owner := before.Answer[1].Header().Name; owner != ",." {
		t.Fatalf("test reply's second owner %q, want \",.\"", owner)
	}
	s := mustStore(t, Options{})
	s.Put(parse(t, pkt), reply, t0)
	out := make([]byte, maxUDPReply)
	n, ok := s.Answer(parse(t, pkt), pkt, t0.Add(time.Second), out)
	if !ok {
		t.Fatal("Answer missed")
	}
	got := unpack(t, out[:n])
	if g, w := rrStrings(got.Answer), rrStrings(withTTLs(before.Answer, 1)); !slices.Equal(g, w) {
		t.Errorf("answer:\ngot  %q\nwant %q", g, w)
	}
}
