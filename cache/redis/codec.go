package redis

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Query is a client's question with its DNSSEC bits, the unit answers are
// stored under. It is an alias of the same unnamed struct type the
// resolver and the cache declare, so that each can use the others' values
// without importing them.
type Query = struct {
	dns.Question
	DO bool // the query set DNSSEC OK (RFC 3225)
	CD bool // the query set Checking Disabled (RFC 4035 section 3.2.2)
}

// codecVersion is the first byte of every value; a value of another
// version (an older or newer rootwalk) is a miss.
const codecVersion = 1

// headerSize is the fixed part of a value: version, stored-at, expiry,
// flags, type, class and the name's length.
const headerSize = 1 + 8 + 8 + 1 + 2 + 2 + 1

// maxHeader is the longest header, with a name of 255 bytes: reading this
// many bytes of a value is enough to know its question (GETRANGE).
const maxHeader = headerSize + 255

// Flags of a value.
const (
	flagDO = 1 << iota
	flagCD
)

// entry is what a value holds.
type entry struct {
	q       Query
	stored  time.Time // when the answer was stored; its TTLs are those at that time
	expires time.Time // stored plus the answer's smallest TTL
	packed  []byte    // the answer, in wire form
}

// errBadValue is the error of a value that cannot be read.
var errBadValue = errors.New("redis: malformed cache value")

// encode returns e as a value.
func encode(e entry) []byte {
	name := strings.ToLower(dns.Fqdn(e.q.Name))
	b := make([]byte, 0, headerSize+len(name)+len(e.packed))
	b = append(b, codecVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(e.stored.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(e.expires.UnixNano()))
	var flags byte
	if e.q.DO {
		flags |= flagDO
	}
	if e.q.CD {
		flags |= flagCD
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint16(b, e.q.Qtype)
	b = binary.BigEndian.AppendUint16(b, e.q.Qclass)
	b = append(b, byte(len(name)))
	b = append(b, name...)
	return append(b, e.packed...)
}

// decodeHeader reads a value's question and times; packed is the rest. It
// needs only the first maxHeader bytes of a value to find the question.
func decodeHeader(b []byte) (e entry, err error) {
	if len(b) < headerSize {
		return entry{}, fmt.Errorf("%w: %d bytes", errBadValue, len(b))
	}
	if b[0] != codecVersion {
		return entry{}, fmt.Errorf("%w: version %d, want %d", errBadValue, b[0], codecVersion)
	}
	e.stored = time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9])))
	e.expires = time.Unix(0, int64(binary.BigEndian.Uint64(b[9:17])))
	flags := b[17]
	e.q.DO, e.q.CD = flags&flagDO != 0, flags&flagCD != 0
	e.q.Qtype = binary.BigEndian.Uint16(b[18:20])
	e.q.Qclass = binary.BigEndian.Uint16(b[20:22])
	n := int(b[22])
	if len(b) < headerSize+n {
		return entry{}, fmt.Errorf("%w: name of %d bytes in %d", errBadValue, n, len(b)-headerSize)
	}
	e.q.Name = string(b[headerSize : headerSize+n])
	if _, ok := dns.IsDomainName(e.q.Name); !ok || !dns.IsFqdn(e.q.Name) {
		return entry{}, fmt.Errorf("%w: name %q", errBadValue, e.q.Name)
	}
	e.packed = b[headerSize+n:]
	return e, nil
}

// decode reads a whole value and unpacks its answer.
func decode(b []byte) (entry, *dns.Msg, error) {
	e, err := decodeHeader(b)
	if err != nil {
		return entry{}, nil, err
	}
	m := new(dns.Msg)
	if err := m.Unpack(e.packed); err != nil {
		return entry{}, nil, fmt.Errorf("%w: answer to %s: %w", errBadValue, e.q.Name, err)
	}
	return e, m, nil
}

// sameQuestion reports whether a and b are the same question, names
// compared without case.
func sameQuestion(a, b Query) bool {
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && a.DO == b.DO && a.CD == b.CD &&
		strings.EqualFold(dns.Fqdn(a.Name), dns.Fqdn(b.Name))
}

// keys derives the Redis names a fleet uses from its seed. Every name
// starts with the fleet's prefix, itself a hash of the seed, so fleets
// with different seeds can share one Redis without meeting. Names are
// short (a key is stored once per answer and once more in its name's
// index): 128 bits of SHA-256, in base64, make collisions a non-event,
// and a read compares the whole question anyway.
type keys struct {
	seed   string
	prefix string // "rw:" and 12 hex digits and ":"
}

func newKeys(seed string) keys {
	sum := sha256.Sum256([]byte("rootwalk fleet\x00" + seed))
	return keys{seed: seed, prefix: "rw:" + hex.EncodeToString(sum[:6]) + ":"}
}

// short is the text of the first 128 bits of a SHA-256 sum.
func short(sum []byte) string { return base64.RawURLEncoding.EncodeToString(sum[:16]) }

// answer is the key of q's answer: a hash of the lower-cased name, type,
// class, DO, CD and the seed.
func (k keys) answer(q Query) string {
	h := sha256.New()
	h.Write([]byte(k.seed))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(dns.Fqdn(q.Name))))
	var tail [6]byte
	binary.BigEndian.PutUint16(tail[0:2], q.Qtype)
	binary.BigEndian.PutUint16(tail[2:4], q.Qclass)
	if q.DO {
		tail[4] = 1
	}
	if q.CD {
		tail[5] = 1
	}
	h.Write(tail[:])
	return k.prefix + "a:" + short(h.Sum(nil))
}

// name is the key of the set that indexes the answers stored at name.
func (k keys) name(name string) string {
	sum := sha256.Sum256([]byte(k.seed + "\x00" + strings.ToLower(dns.Fqdn(name))))
	return k.prefix + "n:" + short(sum[:])
}

// answers is the SCAN pattern of every answer key of the fleet.
func (k keys) answers() string { return k.prefix + "a:*" }

// all is the SCAN pattern of every key of the fleet.
func (k keys) all() string { return k.prefix + "*" }

// channel is the pub/sub channel of the fleet's flushes.
func (k keys) channel() string { return k.prefix + "flush" }

// minTTL is the smallest TTL of m's records (the OPT record aside), and
// false when m has none.
func minTTL(m *dns.Msg) (uint32, bool) {
	var least uint32
	found := false
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			if !found || h.Ttl < least {
				least, found = h.Ttl, true
			}
		}
	}
	return least, found
}
