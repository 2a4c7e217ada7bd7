package sign

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// fuzzApex is the valid part of every fuzzed zone.
const fuzzApex = `$ORIGIN example.
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ 3600 IN NS ns1
ns1 3600 IN A 192.0.2.53
`

// FuzzSign adds fuzzed master-file lines to a valid apex: Sign must not
// panic, and every RRSIG it makes must verify; what it returns must
// survive the wire.
func FuzzSign(f *testing.F) {
	for _, seed := range []string{
		"www A 192.0.2.1\nwww AAAA 2001:db8::1",
		"*.wild TXT x\na.b.c A 192.0.2.3",
		"sub NS ns.sub\nsub DS 1 13 2 00ff\nns.sub A 192.0.2.4",
		"sub NS ns.other.\nx.sub A 192.0.2.5",
		"WWW 300 A 192.0.2.1\nwww 600 A 192.0.2.2",
		`\042.x TXT y` + "\n" + `a\.b TXT z`,
		"www DS 1 13 2 00",
		"x.example.org. A 192.0.2.1",
		"$ORIGIN sub.example.\n@ NS ns\n* NS ns",
	} {
		f.Add(seed, false, false, uint8(0), []byte{})
		f.Add(seed, true, true, uint8(1), []byte{0xab})
	}
	ksk, zsk := testKeys(f, dns.ED25519)
	base := parseZone(f, fuzzApex, "example.")
	f.Fuzz(func(t *testing.T, text string, nsec3, optOut bool, iterations uint8, salt []byte) {
		records := append(fuzzRecords(text), base...)
		opts := options(ksk, zsk, NSEC)
		if nsec3 {
			opts.Denial = NSEC3
			// Few iterations, or the fuzzer spends its time hashing.
			opts.Iterations, opts.Salt, opts.OptOut = uint16(iterations%4), hex.EncodeToString(salt), optOut
		}
		out, err := Sign("example.", records, opts)
		if err != nil {
			return
		}
		verifyAll(t, "example.", records, out, ksk, zsk)
		roundTrip(t, out)
	})
}

// fuzzRecords parses the records of text it can, up to a few, in the
// apex's origin.
func fuzzRecords(text string) []dns.RR {
	zp := dns.NewZoneParser(strings.NewReader(text), "example.", "")
	var out []dns.RR
	for rr, ok := zp.Next(); ok && len(out) < 20; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	return out
}
