package cache

import (
	"hash/maphash"
	"strings"

	"github.com/miekg/dns"
)

// Query is what an answer is filed under: the question and the DNSSEC
// bits of the query that asked it, so that an answer given to a client
// that set DO (DNSSEC OK) or CD (checking disabled) never reaches one that
// did not. It is an alias of an unnamed struct so that a package declaring
// the same shape (the resolver's Query) shares the type without importing
// this one.
type Query = struct {
	dns.Question
	DO bool // the query set DNSSEC OK (RFC 3225)
	CD bool // the query set Checking Disabled (RFC 4035 section 3.2.2)
}

// kind keeps the three sorts of entries apart in the key space.
type kind uint8

const (
	kindAnswer    kind = iota // a reply to one question, positive or negative
	kindNameError             // a name that does not exist, whatever the type
	kindRRset                 // one RRset, with its trust
	kinds                     // how many kinds there are
)

var kindNames = [...]string{kindAnswer: "answer", kindNameError: "nxdomain", kindRRset: "rrset"}

func (k kind) String() string { return kindNames[k] }

// key identifies an entry. Names are stored lower-cased (RFC 4343).
type key struct {
	name  string
	qtype uint16
	class uint16
	kind  kind
	do    bool
	cd    bool
}

func answerKey(q Query) key {
	return key{name: canonical(q.Name), qtype: q.Qtype, class: q.Qclass, kind: kindAnswer, do: q.DO, cd: q.CD}
}

func nameErrorKey(name string, class uint16) key {
	return key{name: canonical(name), class: class, kind: kindNameError}
}

func rrsetKey(name string, rrtype, class uint16) key {
	return key{name: canonical(name), qtype: rrtype, class: class, kind: kindRRset}
}

// shardOf spreads keys over n shards by name and type.
func shardOf(seed maphash.Seed, k key, n int) int {
	if n == 1 {
		return 0
	}
	h := maphash.String(seed, k.name) ^ uint64(k.qtype)*0x9e3779b97f4a7c15
	return int(h % uint64(n))
}

// canonical is the lower-cased, fully qualified form of a name. Names that
// are already so, as nearly all are, are returned without allocating.
func canonical(name string) string {
	if name == "" || name[len(name)-1] != '.' {
		name += "."
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// under reports whether name is zone or below it; both canonical.
func under(name, zone string) bool {
	return zone == "." || name == zone || strings.HasSuffix(name, "."+zone)
}
