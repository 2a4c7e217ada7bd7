package zones

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a server goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
