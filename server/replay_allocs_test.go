//go:build !race

package server

import (
	"net/netip"
	"testing"
)

// TestAnswerFastAllocatesNothing: a cache hit on the fast path, from the
// datagram in to the reply written into the caller's buffer, allocates
// nothing. (Not under the race detector, which allocates for itself.)
func TestAnswerFastAllocatesNothing(t *testing.T) {
	h, pkt := hitPath(t)
	client := netip.MustParseAddrPort("127.0.0.1:40000")
	out := make([]byte, ednsBufferSize)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok := h.answerFast(pkt, client, out); !ok {
			t.Fatal("not answered by the fast path")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per cache hit, want 0", allocs)
	}
}
