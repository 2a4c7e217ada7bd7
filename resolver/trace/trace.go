package trace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver"
)

// Trace is one resolution, step by step, and its outcome.
type Trace struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Where      string   `json:"where,omitempty"` // which resolver, and with what cache
	Steps      []Step   `json:"steps"`
	Rcode      string   `json:"rcode"`               // SERVFAIL when the resolution failed
	Answer     []string `json:"answer,omitempty"`    // records in zone-file form
	Authority  []string `json:"authority,omitempty"` // the SOA of a negative answer
	Error      string   `json:"error,omitempty"`
	Upstream   int      `json:"upstream_queries"`
	DurationMS float64  `json:"duration_ms"`
}

// Step is one resolver.Event in plain data.
type Step struct {
	Kind    string   `json:"kind"` // resolver.EventKind's name: query, reply, referral target in Target, ...
	Depth   int      `json:"depth"`
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Zone    string   `json:"zone,omitempty"`
	Server  string   `json:"server,omitempty"`
	Addr    string   `json:"addr,omitempty"`
	RTTMS   float64  `json:"rtt_ms,omitempty"`
	TCP     bool     `json:"tcp,omitempty"`
	Outcome string   `json:"outcome,omitempty"`
	Target  string   `json:"target,omitempty"`
	Rcode   string   `json:"rcode,omitempty"`
	Flags   string   `json:"flags,omitempty"`   // header flags of the reply: "qr aa", ...
	Records []string `json:"records,omitempty"` // what the reply said that matters: answer, referral, SOA
	Servers []string `json:"servers,omitempty"` // of a referral: "name (address, ...)" or "name (no glue)"
	Error   string   `json:"error,omitempty"`
	// Message is the query sent or the reply received, whole, in dig's
	// text form; only with Options.Messages.
	Message string `json:"message,omitempty"`
}

// Recorder is a resolver.Tracer that keeps every event as a Step. It is
// safe for concurrent use.
type Recorder struct {
	// Messages keeps each query and reply whole (Step.Message).
	Messages bool

	mu    sync.Mutex
	steps []Step
}

// Event implements resolver.Tracer.
func (r *Recorder) Event(e resolver.Event) {
	s := stepOf(e)
	if r.Messages {
		s.Message = message(e)
	}
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
}

// Steps returns the steps recorded so far.
func (r *Recorder) Steps() []Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Step(nil), r.steps...)
}

// Resolver is what Run needs.
type Resolver interface {
	Resolve(ctx context.Context, q dns.Question) (*resolver.Result, error)
}

// Options say how Run records a trace.
type Options struct {
	// Where says which resolver it was and with what cache, for the reader.
	Where string
	// Messages keeps each query and reply whole (Step.Message).
	Messages bool
}

// Run resolves q with res and returns the trace of it; where says which
// resolver it was and with what cache, for the reader. A cold trace comes
// from a context with an empty cache of its own (resolver.WithCache). A
// failed resolution is not an error of Run: it is in the Trace (Rcode
// SERVFAIL, Error).
func Run(ctx context.Context, res Resolver, q dns.Question, where string) *Trace {
	return RunWith(ctx, res, q, Options{Where: where})
}

// RunWith is Run with options.
func RunWith(ctx context.Context, res Resolver, q dns.Question, opts Options) *Trace {
	where := opts.Where
	rec := &Recorder{Messages: opts.Messages}
	ctx = resolver.WithTracer(ctx, rec)
	start := time.Now()
	result, err := res.Resolve(ctx, q)
	t := &Trace{
		Name:       q.Name,
		Type:       typeName(q.Qtype),
		Where:      where,
		DurationMS: ms(time.Since(start)),
		Steps:      rec.Steps(),
	}
	for _, s := range t.Steps {
		if s.Kind == resolver.EventQuery.String() {
			t.Upstream++
		}
	}
	if err != nil {
		t.Rcode = dns.RcodeToString[dns.RcodeServerFailure]
		t.Error = err.Error()
		return t
	}
	t.Rcode = rcodeName(result.Reply.Rcode)
	t.Answer = records(result.Reply.Answer)
	t.Authority = records(result.Reply.Ns)
	return t
}

// Question reads a name and a record type (default A) as a person gives
// them, to the question a trace resolves.
func Question(name, qtype string) (dns.Question, error) {
	if name == "" {
		return dns.Question{}, errors.New("name: missing; want a domain name such as www.example.com")
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return dns.Question{}, fmt.Errorf("name: %q is not a domain name", name)
	}
	t := dns.TypeA
	if qtype != "" {
		var ok bool
		if t, ok = dns.StringToType[strings.ToUpper(qtype)]; !ok || t == dns.TypeNone {
			return dns.Question{}, fmt.Errorf("type: %q is not a record type; want one such as A, AAAA, MX or TXT", qtype)
		}
	}
	return dns.Question{Name: dns.Fqdn(name), Qtype: t, Qclass: dns.ClassINET}, nil
}

func stepOf(e resolver.Event) Step {
	s := Step{
		Kind:    e.Kind.String(),
		Depth:   e.Depth,
		Name:    e.Question.Name,
		Type:    typeName(e.Question.Qtype),
		Zone:    e.Zone,
		Server:  e.Server,
		TCP:     e.TCP,
		Outcome: e.Outcome,
		Target:  e.Target,
	}
	if e.Addr.IsValid() {
		s.Addr = e.Addr.String()
	}
	if e.RTT > 0 {
		s.RTTMS = ms(e.RTT)
	}
	if e.Err != nil {
		s.Error = e.Err.Error()
	}
	if m := e.Reply; m != nil {
		s.Rcode = rcodeName(m.Rcode)
		s.Flags = flags(m)
		s.Records = summary(e.Kind, e.Outcome, m)
		if e.Outcome == "referral" {
			s.Servers = servers(m)
		}
	}
	return s
}

// message renders what e sent or received as dig does: the reply whole;
// for a query, its question and where it went (the walk does not report
// the flags and EDNS options it sends).
func message(e resolver.Event) string {
	switch {
	case e.Reply != nil:
		return e.Reply.String()
	case e.Kind == resolver.EventQuery:
		return fmt.Sprintf(";; query to %s (%s)\n;; QUESTION SECTION:\n;%s\tIN\t%s\n",
			e.Server, e.Addr, e.Question.Name, typeName(e.Question.Qtype))
	}
	return ""
}

// servers lists a referral's name servers with the glue that came for them.
func servers(m *dns.Msg) []string {
	glue := make(map[string][]string)
	for _, rr := range m.Extra {
		switch rr := rr.(type) {
		case *dns.A:
			glue[strings.ToLower(rr.Hdr.Name)] = append(glue[strings.ToLower(rr.Hdr.Name)], rr.A.String())
		case *dns.AAAA:
			glue[strings.ToLower(rr.Hdr.Name)] = append(glue[strings.ToLower(rr.Hdr.Name)], rr.AAAA.String())
		}
	}
	var out []string
	for _, rr := range m.Ns {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		addrs := glue[strings.ToLower(ns.Ns)]
		if len(addrs) == 0 {
			out = append(out, ns.Ns+" (no glue)")
			continue
		}
		out = append(out, ns.Ns+" ("+strings.Join(addrs, ", ")+")")
	}
	return out
}

// summary picks the records of a reply that explain its outcome.
func summary(kind resolver.EventKind, outcome string, m *dns.Msg) []string {
	switch {
	case kind == resolver.EventCacheHit, kind == resolver.EventLocal, outcome == "answer":
		return append(records(m.Answer), records(m.Ns)...)
	case outcome == "referral":
		var out []string
		for _, rr := range m.Ns {
			if rr.Header().Rrtype == dns.TypeNS {
				out = append(out, record(rr))
			}
		}
		for _, rr := range m.Extra {
			if t := rr.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
				out = append(out, record(rr))
			}
		}
		return out
	case outcome == "nxdomain", outcome == "nodata":
		return append(records(m.Answer), records(m.Ns)...)
	}
	return nil
}

// records renders records in zone-file form on one line each, without the
// class (always IN here) and with single spaces.
func records(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		switch rr.Header().Rrtype {
		case dns.TypeOPT, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeDS, dns.TypeDNSKEY:
			// Keys, digests, signatures and proofs are summed up by the
			// dnssec steps (and the lab's change with every run).
			continue
		}
		out = append(out, record(rr))
	}
	return out
}

func record(rr dns.RR) string {
	h := rr.Header()
	rdata := strings.TrimPrefix(rr.String(), h.String())
	rdata = strings.TrimSpace(strings.ReplaceAll(rdata, "\t", " "))
	return fmt.Sprintf("%s %d %s %s", h.Name, h.Ttl, typeName(h.Rrtype), rdata)
}

func flags(m *dns.Msg) string {
	var f []string
	for _, b := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}} {
		if b.on {
			f = append(f, b.name)
		}
	}
	return strings.Join(f, " ")
}

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
