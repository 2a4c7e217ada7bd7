package zones

import (
	"errors"
	"fmt"
	"strings"
)

// hintsTTL is the TTL IANA's named.root gives its records.
const hintsTTL = 3600000

// LabHints returns the lab's root hints for a lab on port, as
// [Lab.Hints] does, without starting the lab: for a resolver that talks to
// a lab running in another process.
func LabHints(port int) (string, error) {
	zones, err := LabZones()
	if err != nil {
		return "", fmt.Errorf("lab hints: %w", err)
	}
	return labHints(zones, port)
}

// labHints writes the root zone's apex NS names and their lab addresses (A
// or AAAA records) in named.root format.
func labHints(zones []*Zone, port int) (string, error) {
	var root *Zone
	for _, z := range zones {
		if z.origin == "." {
			root = z
		}
	}
	if root == nil {
		return "", errors.New("lab hints: no root zone")
	}
	addrs := labAddresses(zones)
	var b strings.Builder
	fmt.Fprintf(&b, "; Root hints for the rootwalk lab, in the format of IANA's named.root.\n")
	fmt.Fprintf(&b, "; The lab's servers listen on port %d of their 127.53.0.0/16 addresses;\n", port)
	fmt.Fprintf(&b, "; glue carries no port, so a resolver must ask every server on that port.\n;\n")
	for _, ns := range root.NS() {
		host := canonicalName(ns.Ns)
		list := addrs[host]
		if len(list) == 0 {
			return "", fmt.Errorf("lab hints: root server %s has no address", host)
		}
		fmt.Fprintf(&b, "%-24s %-8d NS    %s\n", ".", hintsTTL, host)
		for _, a := range list {
			rrtype := "A"
			if a.Is6() {
				rrtype = "AAAA"
			}
			fmt.Fprintf(&b, "%-24s %-8d %-5s %s\n", host, hintsTTL, rrtype, a)
		}
	}
	fmt.Fprintf(&b, "; End of file\n")
	return b.String(), nil
}
