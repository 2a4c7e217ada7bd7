package packet

import (
	"encoding/binary"
	"time"
)

// writeTo writes e's reply into out, which has room for it, patched for q
// at the time elapsed since Put:
//   - the query's ID, and its RD bit (RFC 1035 section 4.1.1: copied
//     into the response);
//   - the question name as the client wrote it, name being those bytes:
//     a client that randomises the case of its question ("0x20", which
//     adds to RFC 5452's defences against forged answers) checks that its
//     reply echoes it, and names in the records compressed to the
//     question show the same case;
//   - every TTL lowered by the whole seconds elapsed: a TTL is how long
//     a record may still be cached (RFC 1035 section 3.2.1), and the
//     client's clock for it starts now. The entry expires before its
//     smallest TTL, so no TTL reaches 0.
//
// It returns the reply's length.
func (e *entry) writeTo(out []byte, q *Query, name []byte, elapsed time.Duration) int {
	n := copy(out, e.reply)
	out = out[:n]
	binary.BigEndian.PutUint16(out, q.ID)
	if q.RD {
		out[2] |= bitRD
	} else {
		out[2] &^= bitRD
	}
	copy(out[headerLen:], name)
	secs := uint32(max(elapsed, 0) / time.Second)
	if secs == 0 {
		return n
	}
	for _, off := range e.ttls {
		ttl := out[off : off+4]
		binary.BigEndian.PutUint32(ttl, binary.BigEndian.Uint32(ttl)-secs)
	}
	return n
}
