package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/zones"
)

// warmTypes are the record types asked for the lab's names.
var warmTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT}

// warmMinTTL is the shortest TTL a warm name may have: longer than the
// whole benchmark, so that no warm answer expires (and is fetched again)
// during a run.
const warmMinTTL = 30 * time.Minute

// coldParent is the owner of the lab's wildcard (*.wild.example.com. in
// zones/lab/example.com.zone), under which every name exists but none is
// cached until asked.
const coldParent = "wild.example.com."

// question is one line of a dnsperf query file.
type question struct {
	name  string // fully qualified
	qtype uint16
}

// line returns q as dnsperf reads it: "www.example.com. A".
func (q question) line() string { return q.name + " " + dns.TypeToString[q.qtype] }

// healthyZones returns the origins of the lab zones that only servers
// without a fault serve. Faulty servers are slow, lossy, lame or attackers
// on purpose, which is for other tests: the warm names come from the rest.
func healthyZones(servers []zones.LabServer) map[string]bool {
	healthy := map[string]bool{}
	sick := map[string]bool{}
	for _, s := range servers {
		for _, z := range s.Zones {
			if s.Fault == zones.FaultNone {
				healthy[z] = true
			} else {
				sick[z] = true
			}
		}
	}
	for z := range sick {
		delete(healthy, z)
	}
	return healthy
}

// warmCandidates returns a question for every RRset of a warmTypes type
// owned by a name of a healthy zone, except wildcards, data at or below a
// delegation point (glue, answered by the child zone) and RRsets whose TTL
// is under warmMinTTL; sorted by zone, then name, then type.
func warmCandidates(all []*zones.Zone, healthy map[string]bool) []question {
	var out []question
	for _, z := range all {
		if !healthy[z.Origin()] {
			continue
		}
		cuts := z.Delegations()
		for _, name := range z.Names() {
			if strings.HasPrefix(name, "*.") || slices.ContainsFunc(cuts, func(cut string) bool { return dns.IsSubDomain(cut, name) }) {
				continue
			}
			for _, t := range warmTypes {
				set := z.RRset(name, t)
				if len(set) == 0 || time.Duration(set[0].Header().Ttl)*time.Second < warmMinTTL {
					continue
				}
				out = append(out, question{name: name, qtype: t})
			}
		}
	}
	return out
}

// warmUp asks every resolver each question once, as dnsperf will (UDP,
// recursion desired, no EDNS), so that the answers are cached, and returns
// the questions that every resolver answered with NOERROR, at least one
// answer record, no truncation and no TTL under warmMinTTL: those a warm
// run can measure fairly. (A TTL over 2^31-1 counts as 0, RFC 2181
// section 8, so a resolver may answer such a record with TTL 0 and never
// cache it, as Unbound does max.poison-ttl.org.)
func warmUp(ctx context.Context, resolvers []*resolver, qs []question) ([]question, error) {
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	var keep []question
	for _, q := range qs {
		good := true
		for _, r := range resolvers {
			m := new(dns.Msg).SetQuestion(q.name, q.qtype)
			reply, _, err := c.ExchangeContext(ctx, m, r.addr.String())
			if err != nil {
				return nil, fmt.Errorf("warm up %s with %s: %w", r.name, q.line(), err)
			}
			if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) == 0 || reply.Truncated || minTTL(reply.Answer) < warmMinTTL {
				good = false
			}
		}
		if good {
			keep = append(keep, q)
		}
	}
	return keep, nil
}

// minTTL returns the lowest TTL of rrs, which must not be empty.
func minTTL(rrs []dns.RR) time.Duration {
	low := rrs[0].Header().Ttl
	for _, rr := range rrs[1:] {
		low = min(low, rr.Header().Ttl)
	}
	return time.Duration(low) * time.Second
}

// coldName returns the n-th cold name of the run tagged tag: a name under
// coldParent that no other run of any benchmark with another tag asks.
func coldName(tag string, n int) string {
	return fmt.Sprintf("c%s-%d.%s", tag, n, coldParent)
}

// writeQueries writes n lines to path, the i-th from line(i).
func writeQueries(path string, n int, line func(i int) string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write query file: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		if _, err := w.WriteString(line(i) + "\n"); err != nil {
			_ = f.Close() // the write's error is the one to report
			return fmt.Errorf("write query file %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		_ = f.Close() // the write's error is the one to report
		return fmt.Errorf("write query file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write query file %s: %w", path, err)
	}
	return nil
}

// writeWarm writes the warm questions, once each; dnsperf loops over them.
func writeWarm(path string, warm []question) error {
	return writeQueries(path, len(warm), func(i int) string { return warm[i].line() })
}

// writeCold writes n cold A questions tagged tag.
func writeCold(path, tag string, n int) error {
	return writeQueries(path, n, func(i int) string { return coldName(tag, i) + " A" })
}

// writeMixed writes n questions of which every coldEvery-th is a cold A
// question tagged tag and the others cycle through warm.
func writeMixed(path string, warm []question, tag string, n, coldEvery int) error {
	return writeQueries(path, n, func(i int) string {
		if i%coldEvery == coldEvery-1 {
			return coldName(tag, i/coldEvery) + " A"
		}
		return warm[(i-i/coldEvery)%len(warm)].line()
	})
}
