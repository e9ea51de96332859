package dashboard

import (
	"fmt"
	"time"

	"xii/libs/xiiapi"
)

// RequestTimeoutHeader lets a caller ask for a deadline, as a Go duration
// ("1500ms"); the timeout parameter wins over it.
const RequestTimeoutHeader = xiiapi.RequestTimeoutHeader

// Request deadline defaults.
const (
	DefaultTimeout = 2 * time.Second
	MaxTimeout     = 10 * time.Second
	// MinTimeout is the shortest deadline a request may ask for: enough
	// for the aggregator to try, and to answer "incomplete" if it cannot
	// sync in time, rather than a bare timeout.
	MinTimeout = 50 * time.Millisecond
)

// Deadlines bound a request's deadline: Default when the caller asks for
// none, at most Max.
type Deadlines struct {
	Default time.Duration
	Max     time.Duration
}

// withDefaults fills zero fields.
func (d Deadlines) withDefaults() Deadlines {
	if d.Max <= 0 {
		d.Max = max(MaxTimeout, d.Default)
	}
	if d.Default <= 0 {
		d.Default = min(DefaultTimeout, d.Max)
	}
	return d
}

// Validate checks that MinTimeout <= Default <= Max <= xiiapi.AggregatorMaxTimeout.
func (d Deadlines) Validate() error {
	switch {
	case d.Default < MinTimeout:
		return fmt.Errorf("default timeout %s: shorter than the minimum %s", d.Default, MinTimeout)
	case d.Max < d.Default:
		return fmt.Errorf("max timeout %s: shorter than the default %s", d.Max, d.Default)
	case d.Max > xiiapi.AggregatorMaxTimeout:
		return fmt.Errorf("max timeout %s: longer than the aggregator's %s", d.Max, xiiapi.AggregatorMaxTimeout)
	}
	return nil
}

// timeouts are the bounds of a request's deadline, d's defaults filled.
func (d Deadlines) timeouts() xiiapi.Timeouts {
	d = d.withDefaults()
	return xiiapi.Timeouts{Min: MinTimeout, Default: d.Default, Max: d.Max}
}
