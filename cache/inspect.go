package cache

import (
	"cmp"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// Filter selects entries to list. The zero Filter selects everything.
type Filter struct {
	Name    string // only entries at this name; "" for any
	Subtree bool   // with Name: also the entries below it
	Type    uint16 // only this record type (the question's, for answers); 0 for any
	Kind    string // "answer", "nxdomain" or "rrset"; "" for any
	Stale   bool   // only expired entries kept to be served stale
	Limit   int    // at most this many, the most recently used first; 0 for no limit
}

// Entry describes one cached entry, for people to read.
type Entry struct {
	Kind    string   `json:"kind"` // "answer", "nxdomain" or "rrset"
	Name    string   `json:"name"`
	Type    string   `json:"type,omitempty"` // the question's type, or the RRset's; empty for nxdomain
	Class   string   `json:"class"`
	DO      bool     `json:"do,omitempty"`
	CD      bool     `json:"cd,omitempty"`
	Rcode   string   `json:"rcode,omitempty"` // answers and nxdomain
	Trust   string   `json:"trust,omitempty"` // RRsets
	TTL     uint32   `json:"ttl"`             // remaining seconds; 0 once expired
	OrigTTL uint32   `json:"original_ttl"`    // as stored, after the clamps
	Stale   bool     `json:"stale,omitempty"` // expired, kept to be served stale
	Size    int64    `json:"size_bytes"`      // estimated
	Records []string `json:"records"`         // in zone-file form, remaining TTLs
	used    int64    // Unix nanoseconds
}

// Entries lists the entries f selects at now, most recently used first.
func (c *Cache) Entries(f Filter, now time.Time) []Entry {
	name := ""
	if f.Name != "" {
		name = canonical(f.Name)
	}
	var out []Entry
	for _, s := range []*store{c.msgs, c.rrsets} {
		s.each(func(k key, e *entry) bool {
			if !f.matches(k, name) {
				return true
			}
			expired := now.UnixNano() >= e.expires
			if expired && !s.keep(e, now) {
				return true // on its way out: no longer served at all
			}
			if f.Stale && !expired {
				return true
			}
			out = append(out, describe(k, e, now, expired))
			return true
		})
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return cmp.Compare(b.used, a.used) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

func (f Filter) matches(k key, name string) bool {
	if name != "" && k.name != name && (!f.Subtree || !under(k.name, name)) {
		return false
	}
	if f.Type != 0 && k.qtype != f.Type {
		return false
	}
	return f.Kind == "" || f.Kind == k.kind.String()
}

func describe(k key, e *entry, now time.Time, expired bool) Entry {
	m := remaining(e, now)
	out := Entry{
		Kind:    k.kind.String(),
		Name:    k.name,
		Class:   dns.ClassToString[k.class],
		DO:      k.do,
		CD:      k.cd,
		TTL:     ttlLeft(e, now),
		OrigTTL: e.ttl,
		Stale:   expired,
		Size:    e.size,
		used:    max(e.used, e.stored),
	}
	if k.kind != kindNameError {
		out.Type = dns.TypeToString[k.qtype]
	}
	if k.kind == kindRRset {
		out.Trust = e.trust.String()
	} else {
		out.Rcode = dns.RcodeToString[e.rcode]
	}
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range rrs {
			out.Records = append(out.Records, rr.String())
		}
	}
	return out
}

// Flush removes every entry and returns how many there were.
func (c *Cache) Flush() int {
	all := func(key) bool { return true }
	return c.msgs.drop(all) + c.rrsets.drop(all)
}

// FlushName removes every entry at name, of any type and kind, and
// returns how many there were.
func (c *Cache) FlushName(name string) int {
	name = canonical(name)
	at := func(k key) bool { return k.name == name }
	return c.msgs.drop(at) + c.rrsets.drop(at)
}

// FlushSubtree removes every entry at name or below it and returns how
// many there were.
func (c *Cache) FlushSubtree(name string) int {
	name = canonical(name)
	below := func(k key) bool { return under(k.name, name) }
	return c.msgs.drop(below) + c.rrsets.drop(below)
}
