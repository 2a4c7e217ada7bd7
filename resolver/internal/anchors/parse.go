package anchors

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// maxFileSize bounds what Parse reads. The root's anchors take a few
// hundred bytes and a file with DNSKEYs for a few private zones some
// kilobytes; anything near a megabyte is the wrong file.
const maxFileSize = 1 << 20

// defaultTTL is the TTL of records written without one and before any
// $TTL, as Unbound's and BIND's anchor files usually are. An anchor's TTL
// means nothing (it does not expire); miekg/dns only needs one.
const defaultTTL = 3600

// Parse reads trust anchors in master-file form (RFC 1035 section 5), as
// Unbound's trust-anchor-file and BIND's trust-anchors statement in zone
// form hold them: DS and DNSKEY records, with any TTL and class IN,
// comments, parentheses, and the $ORIGIN and $TTL directives. Names are
// relative to the root until an $ORIGIN says otherwise. $INCLUDE and
// $GENERATE are refused: an anchor file names its anchors itself.
//
// Every record must pass Set.Add's checks: a DNSKEY anchor must have the
// Zone Key flag and not the REVOKE flag, and records of other types are an
// error. Errors name file and the line (file:line: ...); input with no
// anchor at all is an error wrapping ErrEmpty.
func Parse(r io.Reader, file string) (*Set, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read trust anchors %s: %w", file, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("trust anchors %s: %w: larger than %d bytes", file, ErrBadAnchor, maxFileSize)
	}
	lines, err := recordLines(string(data), file)
	if err != nil {
		return nil, err
	}
	zp := dns.NewZoneParser(bytes.NewReader(data), ".", file)
	zp.SetDefaultTTL(defaultTTL)
	s := NewSet()
	for i := 0; ; i++ {
		rr, ok := zp.Next()
		if !ok {
			break
		}
		if err := s.Add(rr); err != nil {
			return nil, fmt.Errorf("trust anchors %s: %w", where(file, lines, i), err)
		}
	}
	if err := zp.Err(); err != nil {
		// The parser's message has the file and line already.
		return nil, fmt.Errorf("trust anchors: %w", err)
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("trust anchors %s: %w", file, ErrEmpty)
	}
	return s, nil
}

// where names the i-th record of file for an error message: file:line, or
// file (record i+1) in the unlikely case the scan of recordLines and the
// zone parser's disagree on how many records there are.
func where(file string, lines []int, i int) string {
	if i < len(lines) {
		return fmt.Sprintf("%s:%d", file, lines[i])
	}
	return fmt.Sprintf("%s (record %d)", file, i+1)
}

// recordLines returns the line on which each record of a master file
// starts, in order. miekg/dns's zone parser reports lines only in its own
// syntax errors, and an anchor of the wrong kind is a well-formed record;
// this scan finds its line. It splits the text into entries as the
// parser does (a newline ends an entry outside parentheses and quotes, a
// semicolon starts a comment, a backslash escapes the next character),
// skips $ORIGIN and $TTL and refuses the other directives: $INCLUDE would
// read another file and $GENERATE makes many records of one line, which
// would also break the count.
func recordLines(text, file string) ([]int, error) {
	var lines []int
	line, start := 1, 0 // start: the line of the entry's first character, 0 before one
	var entry strings.Builder
	depth, inQuote, inComment := 0, false, false
	flush := func() error {
		content := entry.String()
		entry.Reset()
		first := start
		start = 0
		if strings.Trim(content, " \t\r()") == "" {
			return nil
		}
		if content[0] == '$' {
			// As for the parser, only these four words are directives; any
			// other first word is an owner name that starts with a dollar.
			switch directive := strings.ToUpper(strings.Fields(content)[0]); directive {
			case "$ORIGIN", "$TTL":
				return nil
			case "$INCLUDE", "$GENERATE":
				return fmt.Errorf("trust anchors %s:%d: %w: directive %s not allowed", file, first, ErrBadAnchor, directive)
			}
		}
		lines = append(lines, first)
		return nil
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inComment && c != '\n':
			continue
		case c == '\n':
			inComment = false
			if depth == 0 && !inQuote {
				if err := flush(); err != nil {
					return nil, err
				}
				line++
				continue
			}
		case c == '\\':
			if start == 0 {
				start = line
			}
			entry.WriteByte(c)
			if i+1 < len(text) {
				i++
				entry.WriteByte(text[i])
				if text[i] == '\n' {
					line++
				}
			}
			continue
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == ';':
			inComment = true
			continue
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		}
		if c == '\n' {
			line++
		} else if start == 0 && c != ' ' && c != '\t' && c != '\r' {
			start = line
		}
		entry.WriteByte(c)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return lines, nil
}
