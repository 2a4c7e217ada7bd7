package server

import (
	"strings"

	"github.com/miekg/dns"
)

// maxTXTString is the longest TXT character-string (RFC 1035 section
// 3.3), and so the longest identity or version the handler answers.
const maxTXTString = 255

// chaosTTL is the TTL of the CHAOS answers: 0, as BIND and Unbound give
// them, so that no cache keeps an identity for a server behind a load
// balancer, whose next answer may come from another.
const chaosTTL = 0

// chaosAnswers answers the CHAOS-class TXT queries that name a server
// (RFC 4892): id.server and hostname.bind with its identity, version.bind
// and version.server with its version. A server without an identity
// refuses them: what software and version a resolver runs helps an
// attacker more than a client, so the operator must ask for it.
type chaosAnswers struct {
	identity, version string // as packed: backslashes escaped
}

// newChaosAnswers returns the answers for identity and version; an empty
// version reads "rootwalk".
func newChaosAnswers(identity, version string) chaosAnswers {
	if version == "" {
		version = "rootwalk"
	}
	// miekg/dns reads a backslash in a TXT string as an escape; the
	// operator's text is meant as written.
	escape := strings.NewReplacer(`\`, `\\`)
	return chaosAnswers{identity: escape.Replace(identity), version: escape.Replace(version)}
}

// answer fills reply with the answer to q, a CHAOS-class question, or
// REFUSED: for any name or type other than the four TXT questions, and
// for all of them without an identity.
func (c chaosAnswers) answer(q dns.Question, reply *dns.Msg) {
	text, ok := c.text(q)
	if !ok {
		reply.Rcode = dns.RcodeRefused
		return
	}
	reply.Answer = []dns.RR{&dns.TXT{
		Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS, Ttl: chaosTTL},
		Txt: []string{text},
	}}
}

// text is the TXT string that answers q, if it has one.
func (c chaosAnswers) text(q dns.Question) (string, bool) {
	if c.identity == "" || q.Qtype != dns.TypeTXT {
		return "", false
	}
	switch strings.ToLower(q.Name) {
	case "id.server.", "hostname.bind.":
		return c.identity, true
	case "version.server.", "version.bind.":
		return c.version, true
	}
	return "", false
}
