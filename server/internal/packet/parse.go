package packet

import "encoding/binary"

// Wire-format sizes and values (RFC 1035 section 4.1, RFC 6891 section 6.1).
const (
	headerLen   = 12  // ID, flags and the four section counts
	maxNameLen  = 255 // a name's wire length, its root's 0 byte included (RFC 1035 section 2.3.4)
	maxLabelLen = 63  // a label's length; 0x40, 0x80 and 0xC0 mark other label types
	rrFixedLen  = 10  // TYPE, CLASS, TTL and RDLENGTH after a record's owner name
	optLen      = 1 + rrFixedLen
	typeOPT     = 41
)

// Header bits: byte 2 holds QR, OPCODE, AA, TC and RD; byte 3 holds RA,
// Z, AD, CD and RCODE (RFC 1035 section 4.1.1, RFC 4035 section 3.2).
const (
	bitQR       = 0x80
	maskOpcode  = 0x78
	bitTC       = 0x02
	bitRD       = 0x01
	bitCD       = 0x10
	bitAD       = 0x20
	maskRcode   = 0x0f
	bitDO       = 0x8000 // in the OPT record's flags (RFC 3225)
	rcodeNX     = 3
	optVersion0 = 0
)

// Query is what ParseQuery reads from a datagram: only the header and the
// question, and the OPT record if any.
type Query struct {
	ID     uint16
	RD, CD bool // flags of the query
	// AD: the client set AD, asking to be told whether the answer is
	// secure (RFC 6840 section 5.7); replies to it differ in their AD bit.
	AD bool
	// Name is the question name in wire form (length-prefixed labels, the
	// root's 0 byte included), a sub-slice of the packet: not copied.
	Name    []byte
	Qtype   uint16
	Qclass  uint16
	EDNS    bool   // the query has an OPT record (version 0)
	DO      bool   // the OPT record's DO bit
	UDPSize uint16 // the OPT record's payload size; 0 without EDNS
}

// ParseQuery reads pkt into q and reports whether pkt is a plain query the
// Store may answer: QR clear, opcode QUERY, no TC, rcode 0 in the header,
// exactly one question, no answer or authority record, at most one
// additional record which, if present, is an OPT record of version 0 for
// the root name with no EDNS options at all, no compression pointer in the
// question name, the name at most 255 bytes with labels of at most 63, and
// nothing after the last record. Anything else returns false and leaves q
// unchanged: the full path deals with it, FORMERR and all.
//
// ParseQuery never panics and does not allocate; q.Name points into pkt.
func ParseQuery(pkt []byte, q *Query) bool {
	if len(pkt) < headerLen {
		return false
	}
	if pkt[2]&(bitQR|maskOpcode|bitTC) != 0 || pkt[3]&maskRcode != 0 {
		return false
	}
	// QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1.
	if pkt[4] != 0 || pkt[5] != 1 || pkt[6]|pkt[7]|pkt[8]|pkt[9]|pkt[10] != 0 || pkt[11] > 1 {
		return false
	}
	end, ok := questionNameEnd(pkt, headerLen)
	if !ok || end+4 > len(pkt) {
		return false
	}
	off := end + 4
	var opt optFields
	if pkt[11] == 1 {
		if opt, ok = parseOPT(pkt[off:]); !ok {
			return false
		}
		off += optLen
	}
	if off != len(pkt) {
		return false
	}
	*q = Query{
		ID:      binary.BigEndian.Uint16(pkt),
		RD:      pkt[2]&bitRD != 0,
		CD:      pkt[3]&bitCD != 0,
		AD:      pkt[3]&bitAD != 0,
		Name:    pkt[headerLen:end:end],
		Qtype:   binary.BigEndian.Uint16(pkt[end:]),
		Qclass:  binary.BigEndian.Uint16(pkt[end+2:]),
		EDNS:    opt.present,
		DO:      opt.do,
		UDPSize: opt.udpSize,
	}
	return true
}

// optFields is what ParseQuery keeps of a query's OPT record.
type optFields struct {
	present bool
	do      bool
	udpSize uint16
}

// parseOPT reads rr, which must be exactly one OPT record (RFC 6891
// section 6.1.2): the root as owner, version 0, extended rcode 0 and no
// options. Options (a cookie, padding, a client subnet) change what the
// full path answers, so a query carrying any is not plain.
func parseOPT(rr []byte) (optFields, bool) {
	if len(rr) != optLen || rr[0] != 0 || binary.BigEndian.Uint16(rr[1:]) != typeOPT {
		return optFields{}, false
	}
	// rr[5]: extended rcode; rr[6]: version; rr[9:11]: RDLENGTH.
	if rr[5] != 0 || rr[6] != optVersion0 || rr[9]|rr[10] != 0 {
		return optFields{}, false
	}
	return optFields{
		present: true,
		do:      binary.BigEndian.Uint16(rr[7:])&bitDO != 0,
		udpSize: binary.BigEndian.Uint16(rr[3:]),
	}, true
}

// questionNameEnd returns the offset just past the uncompressed name that
// starts at off in msg: labels of at most 63 bytes, no compression
// pointer, at most 255 bytes in all. A question name is the first in a
// message, so a pointer in it could only point at itself or forward.
func questionNameEnd(msg []byte, off int) (int, bool) {
	start := off
	for off < len(msg) {
		c := int(msg[off])
		off++
		if c == 0 {
			return off, off-start <= maxNameLen
		}
		if c > maxLabelLen || off-start+c >= maxNameLen {
			return 0, false
		}
		off += c
	}
	return 0, false
}
