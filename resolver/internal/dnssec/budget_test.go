package dnssec

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestBudgetConcurrent spends one budget from several goroutines, as
// parallel sub-resolutions may: exactly the limit is granted.
func TestBudgetConcurrent(t *testing.T) {
	b := NewBudget(50, 20)
	var sigs, hashes atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if b.spendSignature() {
					sigs.Add(1)
				}
				if b.spendHash() {
					hashes.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if sigs.Load() != 50 || b.SignaturesUsed() != 50 {
		t.Errorf("signatures granted %d, used %d; want 50", sigs.Load(), b.SignaturesUsed())
	}
	if hashes.Load() != 20 || b.HashesUsed() != 20 {
		t.Errorf("hashes granted %d, used %d; want 20", hashes.Load(), b.HashesUsed())
	}
}

func TestBudgetNil(t *testing.T) {
	var b *Budget
	if b.spendSignature() || b.spendHash() || b.SignaturesUsed() != 0 || b.HashesUsed() != 0 {
		t.Error("a nil budget allowed work")
	}
	if b := NewBudget(-1, -1); b.spendSignature() || b.spendHash() || b.SignaturesUsed() != 0 {
		t.Error("a negative budget allowed work")
	}
}
