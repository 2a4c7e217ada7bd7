package config

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// minCacheMemory is the smallest cache.memory accepted: below it the caches
// could not hold a useful number of answers.
const minCacheMemory = 1 << 20

// text renders a raw value (from YAML, the environment or a flag) for an
// error message.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []string:
		return strings.Join(x, ",")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = text(e)
		}
		return strings.Join(parts, ",")
	}
	if s, ok := scalar(v); ok {
		return s
	}
	return fmt.Sprint(v)
}

// scalar returns a single value as text, or false for a list or mapping. A
// YAML number becomes its decimal spelling, so 53 and 53.0 both read "53".
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil, []any, []string, map[string]any, map[any]any:
		return "", false
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	default:
		return fmt.Sprint(x), true
	}
}

// parseInt reads a whole number from a raw value.
func parseInt(v any) (int64, bool) {
	s, ok := scalar(v)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// parsePort reads a port from 1 to 65535.
func parsePort(v any) (uint16, bool) {
	n, ok := parseInt(v)
	if !ok || n < 1 || n > math.MaxUint16 {
		return 0, false
	}
	return uint16(n), true
}

// parseBool reads true or false, also spelt as strconv.ParseBool allows in
// any case, or as yes/no and on/off, which YAML 1.1 users expect.
func parseBool(v any) (bool, bool) {
	if b, ok := v.(bool); ok {
		return b, true
	}
	s, ok := scalar(v)
	if !ok {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "1", "yes", "y", "on":
		return true, true
	case "false", "f", "0", "no", "n", "off":
		return false, true
	}
	return false, false
}

// parseAddrPort reads an IP literal and a port from 1 to 65535, such as
// 127.0.0.1:53 or [::1]:53. Host names are refused: the address is bound,
// and resolving it would need the resolver being configured.
func parseAddrPort(s string) (netip.AddrPort, bool) {
	ap, err := netip.ParseAddrPort(strings.TrimSpace(s))
	if err != nil || ap.Port() == 0 {
		return netip.AddrPort{}, false
	}
	return ap, true
}

// parseDuration reads a duration as time.ParseDuration does (30s, 5m,
// 1h30m, 1.5h, or a bare 0) and refuses a negative one.
func parseDuration(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// sizeSyntax is what parseBytes accepts before handing the text to
// humanize.ParseBytes: a plain decimal number and an optional unit of
// letters. It keeps out humanize's commas ("1,5GiB" would be read as 15 GiB).
var sizeSyntax = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// sizeUnits are the accepted units, lower-cased. humanize also takes bare
// K, M and G, which it reads as powers of 1000 where Unbound reads powers of
// 1024; they are refused so that neither reading is silently wrong.
var sizeUnits = map[string]bool{
	"": true, "b": true,
	"kb": true, "mb": true, "gb": true,
	"kib": true, "mib": true, "gib": true,
}

// parseBytes reads a byte size: a number of bytes, or a number with B,
// KB/MB/GB (powers of 1000) or KiB/MiB/GiB (powers of 1024), units in any
// case, such as 128MiB or "1.5 GB".
func parseBytes(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	m := sizeSyntax.FindStringSubmatch(s)
	if m == nil || !sizeUnits[strings.ToLower(m[2])] {
		return 0, false
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// parsePrefix reads a CIDR prefix, or a bare IP address as a prefix of one
// address (/32 or /128). Host bits are cleared, so 10.1.2.3/8 is 10.0.0.0/8.
// Zoned addresses are refused: a zone names an interface, not clients.
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// listItems returns the items of a list value: a YAML list, a []string
// from the environment or a flag, or one comma-separated string. The
// second result is false for a mapping.
func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []any:
		return x, true
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return items, true
	}
	s, ok := scalar(v)
	if !ok {
		return nil, false
	}
	return listItems(splitList(s))
}
