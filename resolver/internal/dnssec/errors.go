package dnssec

import (
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// Reason says why validation failed, in the terms of Extended DNS Errors
// (RFC 8914), so that the resolver can attach the matching EDE option to
// its SERVFAIL (or, for the insecure reasons, to its unvalidated answer).
type Reason uint8

// Reasons of a failed validation. Three of them (UnsupportedAlgorithm,
// UnsupportedDigest, NSEC3Iterations) do not make the data bogus: they say
// that rootwalk cannot validate it, which makes it insecure (Insecure).
const (
	// ReasonBogus (EDE 6, DNSSEC Bogus): a signature or a proof does not
	// hold.
	ReasonBogus Reason = iota
	// ReasonSignatureExpired (EDE 7): every signature that could have
	// vouched for the data had expired.
	ReasonSignatureExpired
	// ReasonSignatureNotYetValid (EDE 8): every signature that could have
	// vouched for the data was not valid yet.
	ReasonSignatureNotYetValid
	// ReasonDNSKEYMissing (EDE 9): no DNSKEY matches the DS records or
	// trust anchor, or no trusted key has the key tag an RRSIG names.
	ReasonDNSKEYMissing
	// ReasonRRSIGsMissing (EDE 10): the data came with no signature over
	// it.
	ReasonRRSIGsMissing
	// ReasonNSECMissing (EDE 12): a denial came without the NSEC or NSEC3
	// records needed to prove it.
	ReasonNSECMissing
	// ReasonUnsupportedAlgorithm (EDE 1, insecure): every DS record or
	// trust anchor of the zone names a DNSKEY algorithm rootwalk cannot
	// validate (RFC 4035 section 5.2, RFC 6840 section 5.2).
	ReasonUnsupportedAlgorithm
	// ReasonUnsupportedDigest (EDE 2, insecure): every DS record of the
	// zone with a supported algorithm has a digest type rootwalk cannot
	// compute.
	ReasonUnsupportedDigest
	// ReasonNSEC3Iterations (EDE 27, insecure): the zone's NSEC3 records
	// use more iterations than MaxNSEC3Iterations (RFC 9276 section 3.2).
	ReasonNSEC3Iterations
	// ReasonBudget: a work limit of the Budget was reached (KeyTrap,
	// CVE-2023-50387; NSEC3 hashing, CVE-2023-50868). It is bogus (EDE 6);
	// the reason is separate so that the EDE text and the logs say so.
	ReasonBudget
)

// reasonInfo gives each Reason its EDE INFO-CODE and its text.
var reasonInfo = [...]struct {
	ede  uint16
	text string
}{
	ReasonBogus:                {dns.ExtendedErrorCodeDNSBogus, "DNSSEC bogus"},
	ReasonSignatureExpired:     {dns.ExtendedErrorCodeSignatureExpired, "signature expired"},
	ReasonSignatureNotYetValid: {dns.ExtendedErrorCodeSignatureNotYetValid, "signature not yet valid"},
	ReasonDNSKEYMissing:        {dns.ExtendedErrorCodeDNSKEYMissing, "DNSKEY missing"},
	ReasonRRSIGsMissing:        {dns.ExtendedErrorCodeRRSIGsMissing, "RRSIGs missing"},
	ReasonNSECMissing:          {dns.ExtendedErrorCodeNSECMissing, "NSEC missing"},
	ReasonUnsupportedAlgorithm: {dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm, "unsupported DNSKEY algorithm"},
	ReasonUnsupportedDigest:    {dns.ExtendedErrorCodeUnsupportedDSDigestType, "unsupported DS digest type"},
	ReasonNSEC3Iterations:      {dns.ExtendedErrorCodeUnsupportedNSEC3IterValue, "unsupported NSEC3 iterations value"},
	ReasonBudget:               {dns.ExtendedErrorCodeDNSBogus, "DNSSEC validation work limit exceeded"},
}

// EDE returns the Extended DNS Error INFO-CODE for r (RFC 8914 section
// 4). An unknown Reason is DNSSEC Bogus: failing closed.
func (r Reason) EDE() uint16 {
	if int(r) >= len(reasonInfo) {
		return dns.ExtendedErrorCodeDNSBogus
	}
	return reasonInfo[r].ede
}

// Insecure reports whether r makes the data insecure rather than bogus:
// the resolver cannot validate it, so it answers without the AD bit
// instead of failing (RFC 4035 section 5.2, RFC 9276 section 3.2).
func (r Reason) Insecure() bool {
	switch r {
	case ReasonUnsupportedAlgorithm, ReasonUnsupportedDigest, ReasonNSEC3Iterations:
		return true
	}
	return false
}

// String returns a short text for r, suitable as the start of an EDE
// EXTRA-TEXT.
func (r Reason) String() string {
	if int(r) >= len(reasonInfo) {
		return fmt.Sprintf("dnssec reason %d", uint8(r))
	}
	return reasonInfo[r].text
}

// Error is a validation failure: why (Reason, which gives the EDE code)
// and what exactly (Detail, for logs and the EDE EXTRA-TEXT).
type Error struct {
	Reason Reason
	Detail string
}

// Error returns the reason and the detail.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Reason.String()
	}
	return e.Reason.String() + ": " + e.Detail
}

// ReasonOf returns the Reason of the first *Error in err's chain, and
// whether there is one.
func ReasonOf(err error) (Reason, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return 0, false
}

// fail builds an *Error with a formatted detail.
func fail(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}
