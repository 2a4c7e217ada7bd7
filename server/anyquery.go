package server

import "github.com/miekg/dns"

// anyTTL is the TTL of the record that answers ANY. RFC 8482 section 4.2
// leaves it to the operator; the answer never changes, so an hour spares
// clients from asking again soon.
const anyTTL = 3600

// answerANY fills reply with the minimal answer to q, a question of type
// ANY, that RFC 8482 section 4.2 describes: one synthesised HINFO record,
// CPU "RFC8482" and an empty OS, without resolving anything.
//
// RFC 8482 lets a responder give one RRset of the name, or this HINFO,
// instead of every RRset, and asks for that small positive answer rather
// than an error: REFUSED or NOTIMP tells a client the server is broken,
// and it retries elsewhere. A resolver holds only the RRsets someone
// asked for, so "all of them" from its cache is never the whole truth,
// and walking for ANY would ask authorities for the large answers that
// make ANY a tool of amplification attacks. The HINFO costs no upstream
// query and gives a small reply of constant size, as Cloudflare's
// resolver does. It is given whether or not the name exists: a client
// that wants a type asks for it by name.
func answerANY(q dns.Question, reply *dns.Msg) {
	reply.Answer = []dns.RR{&dns.HINFO{
		Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeHINFO, Class: q.Qclass, Ttl: anyTTL},
		Cpu: "RFC8482",
		Os:  "",
	}}
}
