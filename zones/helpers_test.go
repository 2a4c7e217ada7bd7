package zones

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// testTimeout bounds every test that waits for something.
const testTimeout = 30 * time.Second

// testContext returns a context that ends with the test or after testTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// testLogger sends logs, Debug included, to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// rrText returns the presentation form of each record.
func rrText(records []dns.RR) []string {
	out := make([]string, 0, len(records))
	for _, rr := range records {
		out = append(out, rr.String())
	}
	return out
}

// checkSection compares a section with the wanted zone-format lines, in
// order, TTLs included.
func checkSection(t *testing.T, section string, got []dns.RR, want ...string) {
	t.Helper()
	g, w := rrText(got), rrText(dnstest.RRs(t, want...))
	if !slices.Equal(g, w) {
		t.Errorf("%s section:\ngot:\n  %s\nwant:\n  %s", section,
			strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

// labZonesOnce is the lab as served, signed (LabZones makes it once per
// process); labParsedOnce the lab's master files as parsed, unsigned, for
// the tests of plain lookups. Zones are immutable.
var (
	labZonesOnce  = sync.OnceValues(LabZones)
	labParsedOnce = sync.OnceValues(parseLabZones)
)

// labParsedZone returns the lab zone with the given origin, unsigned.
func labParsedZone(t *testing.T, origin string) *Zone {
	t.Helper()
	zones, err := labParsedOnce()
	if err != nil {
		t.Fatalf("parse the lab: %v", err)
	}
	for _, z := range zones {
		if z.Origin() == origin {
			return z
		}
	}
	t.Fatalf("no lab zone %s", origin)
	return nil
}

// labZoneSet returns the parsed lab zones.
func labZoneSet(t *testing.T) []*Zone {
	t.Helper()
	zones, err := labZonesOnce()
	if err != nil {
		t.Fatalf("LabZones: %v", err)
	}
	return zones
}

// labZone returns the lab zone with the given origin.
func labZone(t *testing.T, origin string) *Zone {
	t.Helper()
	for _, z := range labZoneSet(t) {
		if z.Origin() == origin {
			return z
		}
	}
	t.Fatalf("no lab zone %s", origin)
	return nil
}

// parseZone parses zone text that the test expects to be valid.
func parseZone(t *testing.T, origin, text string) *Zone {
	t.Helper()
	z, err := Parse(strings.NewReader(text), origin, t.Name()+".zone")
	if err != nil {
		t.Fatalf("Parse(%s): %v", origin, err)
	}
	return z
}

// startTestLab starts the lab on a free port and stops it when the test ends.
func startTestLab(t *testing.T) *Lab {
	t.Helper()
	lab, err := StartLab(testContext(t), LabOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartLab: %v", err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("Lab.Close: %v", err)
		}
	})
	return lab
}

// startFreeServer starts a server on addr (an address the lab does not
// use) and a free port from the lab's range, retrying while ports are
// taken, and shuts it down when the test ends.
func startFreeServer(t *testing.T, addr string, opts ServerOptions) *Server {
	t.Helper()
	ctx := testContext(t)
	var (
		s   *Server
		err error
	)
	for range labPortAttempts {
		port := uint16(labPortMin + rand.IntN(labPortMax-labPortMin+1))
		opts.Addr = netip.AddrPortFrom(netip.MustParseAddr(addr), port)
		s, err = StartServer(ctx, opts)
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatalf("StartServer(%s): %v", opts.Addr, err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// noticeHandler is a slog.Handler that passes every record on and signals
// on seen, without blocking, each time a record's message is msg: a test
// learns that a server reached a point without polling or sleeping.
type noticeHandler struct {
	slog.Handler
	msg  string
	seen chan<- struct{}
}

// Handle implements slog.Handler.
func (h noticeHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.seen <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h noticeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return noticeHandler{Handler: h.Handler.WithAttrs(attrs), msg: h.msg, seen: h.seen}
}

// WithGroup implements slog.Handler.
func (h noticeHandler) WithGroup(name string) slog.Handler {
	return noticeHandler{Handler: h.Handler.WithGroup(name), msg: h.msg, seen: h.seen}
}

// noticeLogger returns a test logger that signals on the returned channel
// whenever it logs msg.
func noticeLogger(t *testing.T, msg string) (*slog.Logger, <-chan struct{}) {
	t.Helper()
	seen := make(chan struct{}, 1)
	return slog.New(noticeHandler{Handler: testLogger(t).Handler(), msg: msg, seen: seen}), seen
}

// newRecorder returns a recorder for a query from 127.0.0.1 over UDP or TCP.
func newRecorder(network string) *dnstest.Recorder {
	return dnstest.NewRecorder(network, netip.MustParseAddr("127.0.0.1"))
}

// query builds a query message for name and type, class IN, RD clear.
func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

// rootSOAQuestion asks for the root's SOA.
var rootSOAQuestion = dns.Question{Name: ".", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}

// withClass sets the class of m's question.
func withClass(m *dns.Msg, class uint16) *dns.Msg {
	m.Question[0].Qclass = class
	return m
}

// withOpcode sets m's opcode.
func withOpcode(m *dns.Msg, opcode int) *dns.Msg {
	m.Opcode = opcode
	return m
}

// withQuestions replaces m's question section.
func withQuestions(m *dns.Msg, qs ...dns.Question) *dns.Msg {
	m.Question = qs
	return m
}

// asResponse sets m's QR bit.
func asResponse(m *dns.Msg) *dns.Msg {
	m.Response = true
	return m
}

// wantReply is what a test expects of the body of a reply.
type wantReply struct {
	question   string // the question name echoed; "" means exactly as asked
	rcode      int
	aa         bool
	answer     []string
	authority  []string
	additional []string // OPT aside
	opt        wantOPT
}

// checkReplyBody compares m, the reply to req, with want: the echoed
// question, rcode, AA, TC clear, the three sections and the OPT record.
func checkReplyBody(t *testing.T, req, m *dns.Msg, want wantReply) {
	t.Helper()
	q := req.Question[0]
	if want.question != "" {
		q.Name = want.question
	}
	if len(m.Question) != 1 || m.Question[0] != q {
		t.Errorf("question %v, want %v", m.Question, q)
	}
	if m.Rcode != want.rcode || m.Authoritative != want.aa || m.Truncated {
		t.Errorf("rcode %s AA %t TC %t, want %s AA %t TC false", dns.RcodeToString[m.Rcode], m.Authoritative,
			m.Truncated, dns.RcodeToString[want.rcode], want.aa)
	}
	checkSection(t, "answer", m.Answer, want.answer...)
	checkSection(t, "authority", m.Ns, want.authority...)
	var extra []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	checkSection(t, "additional", extra, want.additional...)
	checkOPT(t, m, want.opt)
}
