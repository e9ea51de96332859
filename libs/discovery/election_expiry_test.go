package discovery

import (
	"testing"
	"time"
)

// TestLeadershipExpiresByItself checks the bound IsLeader keeps even while
// Run is stuck waiting for an unreachable etcd: leadership ends when the
// lease may have expired, whether or not Run has noticed.
func TestLeadershipExpiresByItself(t *testing.T) {
	e := &Elector{epoch: time.Now().Add(-time.Minute)}
	tests := []struct {
		name  string
		until time.Duration // since e.epoch; 0 for not leading
		want  bool
	}{
		{"never elected", 0, false},
		{"lease valid", e.now() + time.Hour, true},
		{"lease may have expired", e.now() - time.Millisecond, false},
		{"stepped down", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.lead(tt.until)
			if got := e.IsLeader(); got != tt.want {
				t.Errorf("IsLeader() = %t, want %t", got, tt.want)
			}
		})
	}
}
