package anchors

import (
	"fmt"
	"strings"
)

// ianaRootAnchors are the root zone's trust anchors as IANA publishes them
// at https://data.iana.org/root-anchors/root-anchors.xml (signed with
// root-anchors.p7s beside it), as DS records of the two root key-signing
// keys, algorithm 8 (RSA/SHA-256), digest type 2 (SHA-256):
//
//   - KSK-2017, key tag 20326, valid from 2017-02-02 with no end date yet;
//     it has signed the root DNSKEY RRset since the 2018-10-11 rollover.
//   - KSK-2024, key tag 38696, valid from 2024-07-18; published in the
//     root zone since 2025-01-11 and due to take over the signing from
//     KSK-2017 in October 2026.
//
// KSK-2010 (key tag 19036) is not here: it was revoked in 2019. When IANA
// adds a key, add its DS line here; a running resolver follows the roll
// through RFC 5011 without it (Tracker), but a new installation starts
// from these.
const ianaRootAnchors = `
; IANA root trust anchors, https://data.iana.org/root-anchors/root-anchors.xml
. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D ; KSK-2017
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16 ; KSK-2024
`

// IANARoot returns the root trust anchors IANA publishes: the DS records of
// KSK-2017 (key tag 20326) and KSK-2024 (key tag 38696), algorithm 8,
// digest type 2. Each call returns a new Set.
func IANARoot() *Set {
	s, err := Parse(strings.NewReader(ianaRootAnchors), "embedded IANA root anchors")
	if err != nil {
		// The text is a constant, checked by the tests: this cannot happen.
		panic(fmt.Sprintf("anchors: %v", err))
	}
	return s
}
