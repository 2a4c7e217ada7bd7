package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// Reasons a reply is not stored. Put drops them silently (the full path
// has already answered); tests tell them apart with errors.Is.
var (
	errTooLong   = errors.New("longer than any UDP client is sent")
	errMalformed = errors.New("malformed")
	errNotReply  = errors.New("not a reply to a standard query")
	errTruncated = errors.New("truncated (TC)")
	errRcode     = errors.New("rcode neither NOERROR nor NXDOMAIN")
	errQuestion  = errors.New("question differs from the query's")
	errOPT       = errors.New("OPT record with options, a non-zero extended rcode or version, or misplaced")
	errTTL       = errors.New("TTL of 0 or past 2^31-1")
	errNoTTL     = errors.New("no record with a TTL")
	errBadQuery  = errors.New("query name unusable as a key")
)

// maxTTL is the largest TTL taken as such: RFC 2181 section 8 says a TTL
// with the top bit set is to be treated as 0.
const maxTTL = 1<<31 - 1

// newEntry checks that reply, sent to q at now, is safe to replay (see
// Put) and returns it as an entry: the reply re-packed, the offsets of
// its TTLs and how long it may be replayed.
func newEntry(q *Query, reply []byte, now time.Time) (*entry, error) {
	var kb [maxKeyLen]byte
	k, ok := makeKey(&kb, q)
	if !ok {
		return nil, errBadQuery
	}
	lowerName := kb[:len(q.Name)]
	// The walk rejects most replies that are not replayable before the
	// cost of re-packing.
	if _, _, err := scanReply(reply, lowerName, q); err != nil {
		return nil, err
	}
	packed, err := repack(reply)
	if err != nil {
		return nil, err
	}
	ttls, minTTL, err := scanReply(packed, lowerName, q)
	if err != nil {
		return nil, fmt.Errorf("re-packed reply: %w", err)
	}
	// The last tenth of the TTL is left to the full path, whose cache
	// refreshes an entry asked for then (prefetch).
	lifetime := time.Duration(minTTL-minTTL/10) * time.Second
	if lifetime <= 0 {
		return nil, fmt.Errorf("minimum TTL %d: %w", minTTL, errTTL)
	}
	return &entry{
		key:      bytes.Clone(kb[:k]),
		reply:    packed,
		ttls:     ttls,
		stored:   now,
		lifetime: lifetime,
		cost:     int64(len(packed)) + entryOverhead,
	}, nil
}

// repack unpacks reply with miekg/dns and packs it again, compressed, into
// a new slice. The walk in scanReply does not read RDATA; miekg/dns does,
// so a reply it cannot read is never replayed. And a compression pointer
// (RFC 1035 section 4.1.4) may point anywhere before or after it as far as
// decoders go, even into the header or a TTL, which Answer rewrites on
// every hit: a name read through it would change with the query's ID or
// the time, or become unreadable. miekg/dns points only at names it has
// written, so in its packing every byte Answer rewrites is an ID, a flag,
// a TTL or a letter of the question, and nothing else. The full path packs
// with miekg/dns too, so its replies come out the same. The re-packed
// reply is unpacked once more, since the round trip is not always exact.
func repack(reply []byte) ([]byte, error) {
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		return nil, fmt.Errorf("unpack reply: %w: %w", errMalformed, err)
	}
	m.Compress = true
	packed, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("re-pack reply: %w: %w", errMalformed, err)
	}
	// miekg/dns does not always read back what it wrote: an SOA with
	// empty RDATA unpacks as zeros and packs as 20 bytes its own Unpack
	// rejects. What clients could not read is not stored.
	if err := new(dns.Msg).Unpack(packed); err != nil {
		return nil, fmt.Errorf("re-packed reply does not unpack: %w: %w", errMalformed, err)
	}
	return packed, nil
}

// scanReply checks a whole reply to q, whose name lower-cased is
// lowerName, and returns the offsets of its TTLs and the smallest TTL.
func scanReply(reply, lowerName []byte, q *Query) ([]uint16, uint32, error) {
	if len(reply) > maxUDPReply {
		return nil, 0, fmt.Errorf("reply of %d bytes: %w", len(reply), errTooLong)
	}
	off, err := checkHeader(reply, lowerName, q)
	if err != nil {
		return nil, 0, err
	}
	return scanRecords(reply, off)
}

// checkHeader checks reply's header and question against q, whose name
// lower-cased is lowerName, and returns the offset of the first record.
func checkHeader(reply, lowerName []byte, q *Query) (int, error) {
	if len(reply) < headerLen {
		return 0, fmt.Errorf("header: %w", errMalformed)
	}
	switch {
	case reply[2]&bitQR == 0 || reply[2]&maskOpcode != 0:
		return 0, errNotReply
	case reply[2]&bitTC != 0:
		return 0, errTruncated
	case reply[3]&maskRcode != 0 && reply[3]&maskRcode != rcodeNX:
		return 0, fmt.Errorf("rcode %d: %w", reply[3]&maskRcode, errRcode)
	case binary.BigEndian.Uint16(reply[4:]) != 1:
		return 0, fmt.Errorf("%d questions: %w", binary.BigEndian.Uint16(reply[4:]), errQuestion)
	}
	end, ok := questionNameEnd(reply, headerLen)
	if !ok || end+4 > len(reply) {
		return 0, fmt.Errorf("question: %w", errMalformed)
	}
	if !equalFoldASCII(reply[headerLen:end], lowerName) ||
		binary.BigEndian.Uint16(reply[end:]) != q.Qtype ||
		binary.BigEndian.Uint16(reply[end+2:]) != q.Qclass {
		return 0, errQuestion
	}
	return end + 4, nil
}

// scanRecords walks the records of reply from off and returns the offset
// of every TTL but the OPT record's (whose TTL field holds the extended
// rcode, the version and the flags) and the smallest TTL.
func scanRecords(reply []byte, off int) ([]uint16, uint32, error) {
	answers := int(binary.BigEndian.Uint16(reply[6:])) + int(binary.BigEndian.Uint16(reply[8:]))
	count := answers + int(binary.BigEndian.Uint16(reply[10:]))
	// Each record takes at least 11 bytes, so a lying count cannot make
	// this allocation large.
	ttls := make([]uint16, 0, min(count, len(reply)/optLen))
	minTTL := uint32(maxTTL)
	sawOPT := false
	for i := range count {
		nameEnd, ok := skipName(reply, off)
		if !ok || nameEnd+rrFixedLen > len(reply) {
			return nil, 0, fmt.Errorf("record %d: %w", i, errMalformed)
		}
		fixed := reply[nameEnd : nameEnd+rrFixedLen]
		end := nameEnd + rrFixedLen + int(binary.BigEndian.Uint16(fixed[8:]))
		if end > len(reply) {
			return nil, 0, fmt.Errorf("record %d: RDATA: %w", i, errMalformed)
		}
		if binary.BigEndian.Uint16(fixed) == typeOPT {
			// RFC 6891 section 6.1.1: one OPT, in the additional section,
			// owned by the root. Options are not replayed: a cookie is
			// per client, an EDE describes one resolution.
			if i < answers || sawOPT || nameEnd != off+1 || fixed[4] != 0 || fixed[5] != optVersion0 || end != nameEnd+rrFixedLen {
				return nil, 0, fmt.Errorf("record %d: %w", i, errOPT)
			}
			sawOPT = true
		} else {
			ttl := binary.BigEndian.Uint32(fixed[4:])
			if ttl == 0 || ttl > maxTTL {
				return nil, 0, fmt.Errorf("record %d: TTL %d: %w", i, ttl, errTTL)
			}
			minTTL = min(minTTL, ttl)
			ttls = append(ttls, uint16(nameEnd+4))
		}
		off = end
	}
	if off != len(reply) {
		return nil, 0, fmt.Errorf("trailing data after the last record (%d bytes): %w", len(reply)-off, errMalformed)
	}
	if len(ttls) == 0 {
		return nil, 0, errNoTTL
	}
	return ttls, minTTL, nil
}

// skipName returns the offset just past the possibly compressed name at
// off (RFC 1035 section 4.1.4): a pointer ends a name. Where pointers
// lead is left to repack.
func skipName(msg []byte, off int) (int, bool) {
	for off < len(msg) {
		c := int(msg[off])
		switch {
		case c == 0:
			return off + 1, true
		case c&0xC0 == 0xC0:
			return off + 2, off+2 <= len(msg)
		case c > maxLabelLen:
			return 0, false
		}
		off += c + 1
	}
	return 0, false
}
