package cache

import "github.com/miekg/dns"

// entryOverhead approximates the bytes an entry costs beyond its records:
// the policy's list element and map slot, the key, the entry and the
// dns.Msg. size_test.go checks it against the heap.
const entryOverhead = 352

// rrOverhead approximates the bytes of one decoded record beyond its wire
// form: the record struct, its header, the interface value and the slice
// slot.
const rrOverhead = 96

// sharedRecordSize is what a record shared with another entry costs an
// entry: its slot in the entry's slice.
const sharedRecordSize = 16

// estimateSize approximates the memory an entry holds. It is an estimate
// (decoded records are larger than their wire form), close enough to make
// cache.memory a real bound.
func estimateSize(m *dns.Msg) int64 {
	size := int64(entryOverhead)
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			size += int64(dns.Len(rr)) + rrOverhead
		}
	}
	return size
}
