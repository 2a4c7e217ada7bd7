package zones

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// FuzzParse feeds arbitrary master-file text to Parse and, when it parses,
// looks up its first names, a child and a wildcard below each, with a few
// types: nothing may panic, and every answer must pack.
func FuzzParse(f *testing.F) {
	const fuzzNames = 64 // names looked up per input, so $GENERATE cannot stall the fuzzer
	f.Fuzz(func(t *testing.T, text string) {
		z, err := Parse(strings.NewReader(text), "example.", "fuzz.zone")
		if err != nil {
			return
		}
		names := z.Names()
		for _, name := range names[:min(len(names), fuzzNames)] {
			for _, qname := range []string{name, "x." + name, "*." + name} {
				for _, qtype := range []uint16{dns.TypeA, dns.TypeCNAME, dns.TypeDS, dns.TypeANY, dns.TypeMX} {
					r := z.Lookup(qname, qtype)
					m := new(dns.Msg)
					m.SetQuestion(dns.Fqdn(qname), qtype)
					m.Answer, m.Ns, m.Extra = r.Answer, r.Authority, r.Additional
					if _, err := m.Pack(); err != nil && len(qname) < 250 {
						t.Errorf("Lookup(%q, %s) reply does not pack: %v", qname, dns.Type(qtype), err)
					}
				}
			}
		}
	})
}

// errorCounter is a slog.Handler that counts records at Error, which the
// handler logs only when it recovers from a panic.
type errorCounter struct{ n atomic.Int64 }

func (c *errorCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (c *errorCounter) Handle(context.Context, slog.Record) error {
	c.n.Add(1)
	return nil
}
func (c *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *errorCounter) WithGroup(string) slog.Handler      { return c }

// fuzzFaults are the faults FuzzHandler tries on every input. FaultSlow is
// left out, as each reply would take slowDelay; TestHandlerSlow covers it.
var fuzzFaults = []Fault{
	FaultNone, FaultRefuse, FaultSilent, FaultNoCase, FaultEDNSFormErr,
	FaultEDNSDrop, FaultUpward, FaultNoAA, FaultENTNXDOMAIN, FaultLossy,
	FaultTCPReset, FaultGarbage, FaultOutOfBailiwick, FaultParentClaim, FaultForge,
}

// FuzzHandler feeds arbitrary bytes as a query: if they unpack, handlers
// serving every lab zone, one per fault in fuzzFaults, answer them over
// UDP and TCP. None may panic (its recover would log at Error), each
// writes one reply unless its fault or a response (QR set) calls for none,
// and a UDP reply, forged replies and garbled ones included, must fit the
// client's limit.
func FuzzHandler(f *testing.F) {
	zones, err := labZonesOnce()
	if err != nil {
		f.Fatalf("LabZones: %v", err)
	}
	var errs errorCounter
	forger := &packetRecorder{}
	handlers := make([]*Handler, 0, len(fuzzFaults))
	for _, fault := range fuzzFaults {
		h, err := NewHandler(HandlerOptions{Zones: zones, Fault: fault, Name: "fuzz-" + fault.String(),
			Logger: slog.New(&errs), Forger: forger})
		if err != nil {
			f.Fatalf("NewHandler: %v", err)
		}
		handlers = append(handlers, h)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, h := range handlers {
			for _, network := range []string{"udp", "tcp"} {
				req := new(dns.Msg)
				if err := req.Unpack(data); err != nil {
					return
				}
				w := &rawRecorder{Recorder: newRecorder(network)}
				before := errs.n.Load()
				lost := h.Fault() == FaultLossy && network == "udp" && h.udpQueries.Load()%2 == 0 // the next is odd
				forger.packets, forger.to = nil, nil
				h.ServeDNS(w, req)
				if errs.n.Load() != before {
					t.Fatalf("%s handler panicked on %x over %s", h.Fault(), data, network)
				}
				silent := req.Response || h.Fault() == FaultSilent || (h.Fault() == FaultEDNSDrop && req.IsEdns0() != nil) || lost
				want := 1
				if silent {
					want = 0
				}
				written := append(append([][]byte{}, w.Raw...), w.writes...)
				if len(written) != want {
					t.Fatalf("%s handler wrote %d messages over %s, want %d", h.Fault(), len(written), network, want)
				}
				for _, b := range append(written, forger.packets...) {
					checkSize(t, b, req, network)
				}
			}
		}
	})
}
