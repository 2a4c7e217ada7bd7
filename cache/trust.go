package cache

import "github.com/miekg/dns"

// Trust ranks where an RRset was learned (RFC 2181 section 5.4.1), lowest
// first. Cached data is replaced only by data at least as trustworthy,
// until it expires, and only data from an answer section (TrustAnswer and
// TrustAnswerAA) ever answers a client: glue and referral data find
// servers, and an authority section's SOA carries a negative answer's TTL.
type Trust uint8

// The trust ranks, lowest first.
const (
	TrustNone         Trust = iota
	TrustAdditional         // additional section of a non-authoritative reply: glue
	TrustAuthority          // authority section of a non-authoritative reply: a referral's NS
	TrustAdditionalAA       // additional section of an authoritative reply
	TrustAnswer             // answer section of a non-authoritative reply (a forwarder's)
	TrustAuthorityAA        // authority section of an authoritative reply
	TrustAnswerAA           // answer section of an authoritative reply
)

var trustNames = [...]string{
	TrustNone:         "none",
	TrustAdditional:   "additional",
	TrustAuthority:    "authority",
	TrustAdditionalAA: "additional-aa",
	TrustAnswer:       "answer",
	TrustAuthorityAA:  "authority-aa",
	TrustAnswerAA:     "answer-aa",
}

func (t Trust) String() string {
	if int(t) < len(trustNames) {
		return trustNames[t]
	}
	return "unknown"
}

// answers reports whether data of this trust may answer a client.
func (t Trust) answers() bool { return t == TrustAnswer || t == TrustAnswerAA }

// sectionTrust is the trust of the records of one section of m.
func sectionTrust(m *dns.Msg, section int) Trust {
	switch section {
	case sectionAnswer:
		if m.Authoritative {
			return TrustAnswerAA
		}
		return TrustAnswer
	case sectionAuthority:
		if m.Authoritative {
			return TrustAuthorityAA
		}
		return TrustAuthority
	default:
		if m.Authoritative {
			return TrustAdditionalAA
		}
		return TrustAdditional
	}
}

const (
	sectionAnswer = iota
	sectionAuthority
	sectionAdditional
)
