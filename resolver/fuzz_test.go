package resolver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// Modes of FuzzUpstreamReply, bits of its mode argument.
const (
	fuzzEcho   = 1 << iota // each reply gets the query's ID and question, as a real server's would
	fuzzCache              // the resolver has a cache
	fuzzQMin               // QNAME minimisation is on
	fuzzTraced             // the resolution is traced, which checks where each record came from
)

// fuzzNet is the upstream network of FuzzUpstreamReply: the server at
// 127.0.0.N answers every query with the Nth message of the input, and
// the others are silent. Like NetExchanger, it returns what fails to
// unpack as an error, and checks that a reply matches its query.
type fuzzNet struct {
	replies [][]byte
	echo    bool
}

func (f *fuzzNet) Exchange(ctx context.Context, query *dns.Msg, server netip.AddrPort, _ time.Duration) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	a := server.Addr().Unmap()
	if !a.Is4() {
		return Response{}, fmt.Errorf("udp %s: %w", server, ErrTimeout)
	}
	ip := a.As4()
	n := int(ip[3])
	if [3]byte(ip[:3]) != [3]byte{127, 0, 0} || n == 0 || n > len(f.replies) {
		return Response{}, fmt.Errorf("udp %s: %w", server, ErrTimeout)
	}
	reply := new(dns.Msg)
	if err := reply.Unpack(f.replies[n-1]); err != nil {
		return Response{}, fmt.Errorf("udp %s: %w", server, err)
	}
	if f.echo {
		reply.Id = query.Id
		reply.Question = append([]dns.Question(nil), query.Question...)
	}
	if err := checkReply(query, reply); err != nil {
		return Response{}, fmt.Errorf("udp %s: %w", server, err)
	}
	return Response{Msg: reply, RTT: time.Millisecond}, nil
}

// splitReplies reads length-prefixed messages from b, as on a TCP stream;
// a last message cut short is taken as it is.
func splitReplies(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := min(int(binary.BigEndian.Uint16(b)), len(b)-2)
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

// joinReplies is the input of FuzzUpstreamReply in which the server at
// 127.0.0.N answers msgs[N-1].
func joinReplies(t testing.TB, msgs ...*dns.Msg) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		m.Response = true
		p, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

// replyRecorder is a Tracer that keeps the replies and the zones whose
// servers sent them.
type replyRecorder struct {
	mu      sync.Mutex
	replies []Event
}

func (r *replyRecorder) Event(e Event) {
	if e.Kind == EventReply && e.Reply != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.replies = append(r.replies, e)
	}
}

// from reports whether rr came in a reply from a server of a zone that
// holds rr's owner name.
func (r *replyRecorder) from(rr dns.RR) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.replies {
		if !dns.IsSubDomain(e.Zone, rr.Header().Name) {
			continue
		}
		for _, got := range append(append(append([]dns.RR{}, e.Reply.Answer...), e.Reply.Ns...), e.Reply.Extra...) {
			if dns.IsDuplicate(got, rr) {
				return true
			}
		}
	}
	return false
}

// upstreamCase is a tree of up to three servers (the root at 127.0.0.1,
// test.'s at 127.0.0.2, example.test.'s at 127.0.0.3), a question, and
// what resolving it gives.
type upstreamCase struct {
	name       string
	replies    []*dns.Msg
	qname      string
	wantErr    error    // nil: an answer
	wantRcode  int      // of the answer
	wantAnswer []string // dnstest.Set of the answer section
}

func upstreamCases(t testing.TB) []upstreamCase {
	rootRef := referralTo(t, []string{"test. 3600 IN NS ns.test."}, "ns.test. 3600 IN A 127.0.0.2")
	tldRef := referralTo(t, []string{"example.test. 3600 IN NS ns.example.test."}, "ns.example.test. 3600 IN A 127.0.0.3")
	soa := "example.test. 300 IN SOA ns.example.test. hostmaster.example.test. 1 7200 3600 1209600 300"
	poisoned := answer(t, "www.example.test. 60 IN A 192.0.2.1", "www.victim.net. 60 IN A 192.0.2.66")
	poisoned.Ns = dnstest.RRs(t, "net. 60 IN NS ns.evil.")
	poisoned.Extra = dnstest.RRs(t, "ns.evil. 60 IN A 192.0.2.66", "ns.test. 60 IN A 192.0.2.66")
	return []upstreamCase{
		{name: "answer", replies: []*dns.Msg{rootRef, tldRef, answer(t, "www.example.test. 60 IN A 192.0.2.1")},
			qname: "www.example.test.", wantAnswer: []string{"www.example.test. a 192.0.2.1"}},
		{name: "CNAME in the zone",
			replies:    []*dns.Msg{rootRef, tldRef, answer(t, "www.example.test. 60 IN CNAME a.example.test.", "a.example.test. 60 IN A 192.0.2.2")},
			qname:      "www.example.test.",
			wantAnswer: []string{"a.example.test. a 192.0.2.2", "www.example.test. cname a.example.test."}},
		{name: "DNAME in the zone",
			replies: []*dns.Msg{rootRef, tldRef, answer(t, "sub.example.test. 60 IN DNAME a.example.test.",
				"www.sub.example.test. 60 IN CNAME www.a.example.test.", "www.a.example.test. 60 IN A 192.0.2.3")},
			qname: "www.sub.example.test.",
			wantAnswer: []string{"sub.example.test. dname a.example.test.", "www.a.example.test. a 192.0.2.3",
				"www.sub.example.test. cname www.a.example.test."}},
		{name: "CNAME to itself", replies: []*dns.Msg{rootRef, tldRef, answer(t, "www.example.test. 60 IN CNAME www.example.test.")},
			qname: "www.example.test.", wantErr: ErrLoop},
		{name: "CNAME loop within one reply",
			replies: []*dns.Msg{rootRef, tldRef, answer(t, "www.example.test. 60 IN CNAME a.example.test.",
				"a.example.test. 60 IN CNAME www.example.test.")},
			qname: "www.example.test.", wantErr: ErrLoop},
		{name: "DNAME below itself", replies: []*dns.Msg{rootRef, tldRef, answer(t, "example.test. 60 IN DNAME sub.example.test.")},
			qname: "www.example.test.", wantErr: ErrBudgetExceeded},
		{name: "NXDOMAIN", replies: []*dns.Msg{rootRef, tldRef, negative(t, dns.RcodeNameError, soa)},
			qname: "www.example.test.", wantRcode: dns.RcodeNameError},
		{name: "NODATA", replies: []*dns.Msg{rootRef, tldRef, negative(t, dns.RcodeSuccess, soa)},
			qname: "www.example.test."},
		{name: "records from outside the zone dropped", replies: []*dns.Msg{rootRef, tldRef, poisoned},
			qname: "www.example.test.", wantAnswer: []string{"www.example.test. a 192.0.2.1"}},
		{name: "lame server", replies: []*dns.Msg{rootRef, failure(dns.RcodeRefused)},
			qname: "www.example.test.", wantErr: ErrLameDelegation},
		{name: "glueless server that cannot be found",
			replies: []*dns.Msg{rootRef, referralTo(t, []string{"example.test. 3600 IN NS ns.elsewhere.test."})},
			qname:   "www.example.test.", wantErr: ErrNoReachableAuthority},
		{name: "upward referral",
			replies: []*dns.Msg{rootRef, referralTo(t, []string{". 3600 IN NS ns.test."}, "ns.test. 3600 IN A 127.0.0.1")},
			qname:   "www.example.test.", wantErr: ErrLameDelegation},
	}
}

// TestUpstreamReplyCases resolves FuzzUpstreamReply's seeds, in each of
// its modes, and checks what they give: the fuzzer starts from trees that
// the resolver walks to the end.
func TestUpstreamReplyCases(t *testing.T) {
	for _, tc := range upstreamCases(t) {
		for _, mode := range []uint8{fuzzEcho, fuzzEcho | fuzzCache | fuzzQMin | fuzzTraced} {
			t.Run(fmt.Sprintf("%s/mode %d", tc.name, mode), func(t *testing.T) {
				q := dns.Question{Name: tc.qname, Qtype: dns.TypeA, Qclass: dns.ClassINET}
				reply, err := resolveFuzzed(t, joinReplies(t, tc.replies...), q, mode, new(replyRecorder))
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("got %v, %v; want error %v", reply, err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := dnstest.Set(reply.Answer)
				if reply.Rcode != tc.wantRcode || len(got)+len(tc.wantAnswer) > 0 && !slices.Equal(got, tc.wantAnswer) {
					t.Errorf("got %s %q, want %s %q", dns.RcodeToString[reply.Rcode], got,
						dns.RcodeToString[tc.wantRcode], tc.wantAnswer)
				}
			})
		}
	}
}

// FuzzUpstreamReply feeds arbitrary bytes to the resolver as the replies
// of the servers it asks, and resolves one question against them. The
// resolution must not panic and must end in time; it either succeeds
// with an answer whose records follow the chain from the question to its
// data (and, traced, each came from a server of a zone that holds it), or
// fails with one of the sentinel errors of errors.go.
func FuzzUpstreamReply(f *testing.F) {
	for _, tc := range upstreamCases(f) {
		in := joinReplies(f, tc.replies...)
		f.Add(in, tc.qname, dns.TypeA, uint8(fuzzEcho))
		f.Add(in, tc.qname, dns.TypeA, uint8(fuzzEcho|fuzzCache|fuzzQMin|fuzzTraced))
	}
	f.Fuzz(func(t *testing.T, in []byte, qname string, qtype uint16, mode uint8) {
		if _, ok := dns.IsDomainName(qname); !ok || len(splitReplies(in)) == 0 {
			return
		}
		q := dns.Question{Name: dns.Fqdn(qname), Qtype: qtype, Qclass: dns.ClassINET}
		rec := new(replyRecorder)
		reply, err := resolveFuzzed(t, in, q, mode, rec)
		if err != nil {
			checkFailure(t, err)
			return
		}
		checkResult(t, q, reply)
		if mode&fuzzTraced != 0 {
			checkSources(t, reply, rec)
		}
	})
}

// resolveFuzzed resolves q over the servers that in describes, in mode,
// with a new resolver. A traced resolution reports to rec.
func resolveFuzzed(t testing.TB, in []byte, q dns.Question, mode uint8, rec *replyRecorder) (*dns.Msg, error) {
	t.Helper()
	opts := Options{
		Hints:             testHints,
		UpstreamPort:      53,
		QNameMinimisation: mode&fuzzQMin != 0,
		Exchanger:         &fuzzNet{replies: splitReplies(in), echo: mode&fuzzEcho != 0},
		Clock:             dnstest.NewClock(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)),
		Rand:              rand.NewPCG(1, 2),
		Timeout:           30 * time.Second,
	}
	if mode&fuzzCache != 0 {
		opts.Cache = newMapCache()
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if mode&fuzzTraced != 0 {
		ctx = WithTracer(ctx, rec)
	}
	res, err := r.ResolveQuery(ctx, Query{Question: q})
	if err != nil {
		return nil, err
	}
	return res.Reply, nil
}

// fuzzSentinels are the errors a resolution may fail with.
var fuzzSentinels = []error{ErrNoReachableAuthority, ErrBudgetExceeded, ErrLoop, ErrLameDelegation, ErrBadReply,
	ErrRateLimited, ErrCachedFailure}

func checkFailure(t *testing.T, err error) {
	t.Helper()
	for _, s := range fuzzSentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("resolution failed with %v, not a sentinel error", err)
}

// checkResult checks that reply answers q: a chain of DNAMEs (each with
// the CNAME it implies) and CNAMEs from q's name, then the records of
// q's type at its end; an authority section of at most an SOA at or above
// that end.
func checkResult(t *testing.T, q dns.Question, reply *dns.Msg) {
	t.Helper()
	switch reply.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeYXDomain:
	default:
		t.Fatalf("resolved with rcode %s: %v", dns.RcodeToString[reply.Rcode], reply)
	}
	name := q.Name
	for i, rr := range reply.Answer {
		h := rr.Header()
		owned := strings.EqualFold(h.Name, name)
		switch {
		case owned && (h.Rrtype == q.Qtype || q.Qtype == dns.TypeANY && h.Rrtype != dns.TypeRRSIG):
			if h.Class != q.Qclass {
				t.Fatalf("answer %v: class, want %s", rr, dns.ClassToString[q.Qclass])
			}
		case owned && h.Rrtype == dns.TypeCNAME:
			name = rr.(*dns.CNAME).Target
		case h.Rrtype == dns.TypeDNAME && dns.IsSubDomain(h.Name, name) && !owned:
			// The CNAME that follows moves the chain on.
			if !followsDNAME(reply.Answer[i+1:], rr.(*dns.DNAME), name) {
				t.Fatalf("DNAME %v not followed by the CNAME it implies for %s: %v", rr, name, reply.Answer)
			}
		default:
			t.Fatalf("answer %v is off the chain from %s (at %s): %v", rr, q.Name, name, reply.Answer)
		}
	}
	for _, rr := range reply.Ns {
		soa, ok := rr.(*dns.SOA)
		if !ok || !dns.IsSubDomain(soa.Hdr.Name, name) {
			t.Fatalf("authority %v is not an SOA at or above %s", rr, name)
		}
	}
}

// followsDNAME reports whether rest starts with the CNAME that d implies
// for name: from name, to a name under d's target.
func followsDNAME(rest []dns.RR, d *dns.DNAME, name string) bool {
	if len(rest) == 0 {
		return false
	}
	c, ok := rest[0].(*dns.CNAME)
	return ok && strings.EqualFold(c.Hdr.Name, name) && dns.IsSubDomain(d.Target, c.Target)
}

// checkSources checks that each record of reply was sent by a server of a
// zone that holds it; the CNAME a DNAME implies is made, not sent.
func checkSources(t *testing.T, reply *dns.Msg, rec *replyRecorder) {
	t.Helper()
	for i, rr := range append(append([]dns.RR{}, reply.Answer...), reply.Ns...) {
		if _, ok := rr.(*dns.CNAME); ok && i > 0 && i <= len(reply.Answer) && reply.Answer[i-1].Header().Rrtype == dns.TypeDNAME {
			continue
		}
		if !rec.from(rr) {
			t.Fatalf("%v came from no server of a zone that holds it", rr)
		}
	}
}
