package trace

import (
	"fmt"
	"io"
	"strings"

	"github.com/rootwalk/rootwalk/resolver"
)

// TextOptions shape the text view.
type TextOptions struct {
	Color bool // ANSI colours, for a terminal
}

// ANSI colours of the text view.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// indentUnit is one level of the tree.
const indentUnit = "   "

// WriteText writes t as an indented tree: each referral one level deeper,
// each glueless server's own resolution nested under the server, CNAME
// and DNAME restarts back at the left, then the final answer.
func WriteText(w io.Writer, t *Trace, opts TextOptions) error {
	p := &printer{w: w, color: opts.Color, base: map[int]int{0: 0}, level: map[int]int{}, name: map[int]string{}}
	header := fmt.Sprintf(";; rootwalk trace %s %s", t.Name, t.Type)
	if t.Where != "" {
		header += ": " + t.Where
	}
	p.line(0, p.paint(ansiDim, header))
	p.blank()
	var pending *Step // a query waiting for its reply
	for i := range t.Steps {
		s := &t.Steps[i]
		if pending != nil && s.Kind != "tcp-retry" && (s.Kind != "reply" && s.Kind != "error" || s.Addr != pending.Addr) {
			p.exchange(pending, nil, false) // a query whose reply never came back
			pending = nil
		}
		switch s.Kind {
		case "query":
			pending = s
		case "tcp-retry":
			if pending != nil {
				pending.TCP = true
			}
		case "reply", "error":
			p.exchange(pending, s, pending != nil && pending.TCP)
			pending = nil
		default:
			p.step(s)
		}
	}
	if pending != nil {
		p.exchange(pending, nil, false)
	}
	p.blank()
	p.result(t)
	return p.err
}

// printer keeps where each depth of the walk is: base is the indentation
// at which a depth's walk starts, level how many referrals it went down.
type printer struct {
	w     io.Writer
	color bool
	base  map[int]int
	level map[int]int
	name  map[int]string // the name each depth's lookup is for
	err   error
}

func (p *printer) line(indent int, text string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, strings.Repeat(indentUnit, indent)+text)
	}
}

func (p *printer) blank() {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w)
	}
}

func (p *printer) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p *printer) at(depth int) int { return p.base[depth] + p.level[depth] }

// stair prints an exchange line of depth d: at its walk's base for the
// first zone, then one step further right, with a corner, per referral.
func (p *printer) stair(d int, text string) {
	if p.level[d] == 0 {
		p.line(p.base[d], text)
		return
	}
	p.line(p.at(d)-1, "└─ "+text)
}

func (p *printer) step(s *Step) {
	d := s.Depth
	switch s.Kind {
	case "start":
		p.level[d] = 0
		p.name[d] = s.Name + " " + s.Type
		from := "the root hints"
		switch s.Target {
		case "cache":
			from = "a cached delegation"
		case "stub":
			from = "a stub zone: its configured servers"
		case "forward":
			from = "a forward zone: its resolvers are asked to recurse"
		}
		p.line(p.base[d], fmt.Sprintf("%s %s  %s", p.paint(ansiBold, s.Name), s.Type,
			p.paint(ansiDim, "start at "+s.Zone+" ("+from+")")))
	case "cache-hit":
		from := "answered from the cache"
		if s.Target == resolver.SharedCacheTarget {
			from = "answered from the fleet's shared cache (Redis)"
		}
		p.line(p.base[d], fmt.Sprintf("%s %s  %s", p.paint(ansiBold, s.Name), s.Type, p.paint(ansiGreen, from)))
		p.records(p.base[d]+1, s.Records)
	case "local":
		p.line(p.base[d], fmt.Sprintf("%s %s  %s", p.paint(ansiBold, s.Name), s.Type, p.paint(ansiGreen, "answered from the local zone "+s.Zone)))
		p.records(p.base[d]+1, s.Records)
	case "restart":
		p.line(p.base[d], p.paint(ansiYellow, "↪ "+s.Name+" is an alias: continue at "+s.Target))
	case "sub-resolve":
		in := p.at(d)
		if s.Outcome == "dnssec" {
			p.line(in, p.paint(ansiCyan, "↳ DNSSEC: fetch "+s.Target+" "+s.Type+" for the chain of trust"))
		} else {
			p.line(in, p.paint(ansiYellow, "↳ "+s.Target+" has no glue: resolve its address ("+s.Type+") first"))
		}
		p.base[d+1] = in + 1
		p.level[d+1] = 0
	case "skip":
		p.line(p.at(d), p.paint(ansiDim, "skip "+s.Target+": "+s.Error))
	case "dnssec":
		color := ansiGreen
		switch s.Outcome {
		case "insecure":
			color = ansiYellow
		case "bogus":
			color = ansiRed
		}
		text := "DNSSEC " + s.Zone + " " + s.Target + " → " + s.Outcome
		if s.Error != "" {
			text += ": " + s.Error
		}
		p.line(p.at(d), p.paint(color, text))
	default:
		p.line(p.at(d), s.Kind+" "+s.Name+" "+s.Type)
	}
}

// exchange prints one query and what came of it: a reply, an error, or
// nothing.
func (p *printer) exchange(q, r *Step, tcp bool) {
	s := q
	if s == nil {
		s = r
	}
	d := s.Depth
	ask := fmt.Sprintf("%s  ask %s (%s)", p.paint(ansiBold, zoneName(s.Zone)), s.Server, host(s.Addr))
	if asked := s.Name + " " + s.Type; asked != p.name[d] {
		ask += " about " + asked // a minimised query (RFC 9156)
	}
	switch {
	case r == nil:
		p.stair(d, ask+"  "+p.paint(ansiRed, "no reply"))
	case r.Kind == "error":
		p.stair(d, ask+"  "+p.paint(ansiRed, "✗ "+r.Error))
	default:
		via := ""
		if tcp {
			via = "  truncated over UDP, asked again over TCP"
		}
		p.stair(d, fmt.Sprintf("%s  %s%s  → %s", ask, rtt(r.RTTMS), via, p.outcome(r)))
		if r.Outcome == "referral" {
			p.level[d]++
			return
		}
		p.records(p.at(d)+1, r.Records)
	}
}

func (p *printer) outcome(r *Step) string {
	switch r.Outcome {
	case "referral":
		return p.paint(ansiCyan, "referral to "+r.Target) + ": " + strings.Join(r.Servers, ", ")
	case "answer":
		return p.paint(ansiGreen, "answer") + flagNote(r.Flags)
	case "nxdomain":
		return p.paint(ansiYellow, "NXDOMAIN: no such name") + flagNote(r.Flags)
	case "nodata":
		return p.paint(ansiYellow, "NODATA: no records of that type") + flagNote(r.Flags)
	case "lame":
		return p.paint(ansiRed, "lame ("+r.Rcode+"): it does not serve the zone")
	default:
		return p.paint(ansiRed, r.Outcome+" ("+r.Rcode+")")
	}
}

func (p *printer) records(indent int, rrs []string) {
	for _, rr := range rrs {
		p.line(indent, p.paint(ansiDim, rr))
	}
}

func (p *printer) result(t *Trace) {
	summary := fmt.Sprintf(";; %s in %s, %d upstream %s", t.Rcode, rtt(t.DurationMS), t.Upstream, plural(t.Upstream, "query", "queries"))
	code := ansiGreen
	if t.Rcode != "NOERROR" {
		code = ansiYellow
	}
	if t.Error != "" {
		code = ansiRed
	}
	p.line(0, p.paint(code, summary))
	if t.Error != "" {
		p.line(0, p.paint(ansiRed, ";; "+t.Error))
	}
	for _, rr := range t.Answer {
		p.line(0, rr)
	}
	for _, rr := range t.Authority {
		p.line(0, p.paint(ansiDim, rr))
	}
}

// flagNote marks an authoritative reply.
func flagNote(flags string) string {
	for _, f := range strings.Fields(flags) {
		if f == "aa" {
			return " (authoritative)"
		}
	}
	return ""
}

func zoneName(z string) string {
	if z == "." {
		return ". (root)"
	}
	return z
}

// host drops the port: every server of a walk is asked on the same one.
func host(addrPort string) string {
	if i := strings.LastIndexByte(addrPort, ':'); i > 0 {
		return strings.Trim(addrPort[:i], "[]")
	}
	return addrPort
}

func rtt(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
