package packet

import "encoding/binary"

// A key is the lower-cased question name followed by QTYPE, QCLASS and
// one byte of flag bits (EDNS, DO, CD, AD): everything the full path's answer depends on
// that a plain query can vary. Stored entries keep their key so that a
// hash collision is caught by comparing bytes and never answers the wrong
// question.
const maxKeyLen = maxNameLen + 5

// Flag bits in a key's last byte.
const (
	keyEDNS = 1 << iota // the query had an OPT record: the reply carries one
	keyDO               // DNSSEC records wanted (RFC 3225)
	keyCD               // checking disabled (RFC 4035 section 3.2.2)
	keyAD               // the client asked for the AD bit (RFC 6840 section 5.7)
)

// makeKey writes q's key into buf and returns its length, or false when
// q.Name cannot be a name ParseQuery accepted.
func makeKey(buf *[maxKeyLen]byte, q *Query) (int, bool) {
	n := len(q.Name)
	if n == 0 || n > maxNameLen {
		return 0, false
	}
	lowerASCII(buf[:n], q.Name)
	binary.BigEndian.PutUint16(buf[n:], q.Qtype)
	binary.BigEndian.PutUint16(buf[n+2:], q.Qclass)
	var flags byte
	if q.EDNS {
		flags |= keyEDNS
	}
	if q.DO {
		flags |= keyDO
	}
	if q.CD {
		flags |= keyCD
	}
	if q.AD {
		flags |= keyAD
	}
	buf[n+4] = flags
	return n + 5, true
}

// lowerASCII copies src into dst, which is as long, folding A-Z to a-z.
// Length bytes of a valid name are at most 63, below 'A', so they are
// never changed (RFC 4343: DNS names compare case-insensitively in ASCII
// only).
func lowerASCII(dst, src []byte) {
	dst = dst[:len(src)]
	for i, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

// equalFoldASCII reports whether name, folded to lower case, equals
// lower, which is already lower case.
func equalFoldASCII(name, lower []byte) bool {
	if len(name) != len(lower) {
		return false
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
