package dashboard

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the transport
// tests run servers and cancel requests mid-flight.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
