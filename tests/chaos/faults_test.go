package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"
)

// fault is one kind of failure: inject breaks something, heal undoes it.
// hold is how long it lasts; "long" faults outlast the registration lease.
type fault struct {
	kind   string
	target string
	hold   time.Duration
	inject func() error
	heal   func() error
}

// event is a fault as it happened.
type event struct {
	kind, target   string
	start, healed  time.Time
	recovered      time.Time // when the next fault could start
	injectErr, err error
}

// long is an outage past the registration lease, with a margin for the
// lease to be noticed as expired.
const long = registerTTL + 1500*time.Millisecond

// faults returns every fault the cluster supports, one per kind and
// target. pgRestart is the command that restarts PostgreSQL, "" for none.
func (c *cluster) faults(h *history, pgRestart string) []fault {
	var fs []fault
	restart := func(n *node, hold time.Duration, kind string) fault {
		return fault{kind: kind, target: n.name, hold: hold,
			inject: func() error { n.kill(); return nil },
			heal:   n.start}
	}
	for _, a := range c.aggs {
		fs = append(fs, restart(a, 300*time.Millisecond, "kill aggregator"))
	}
	fs = append(fs, restart(c.dash, 300*time.Millisecond, "kill dashboard"))
	// A replica restarted while etcd is down must not answer "complete"
	// before it has read its providers.
	a := c.aggs[0]
	fs = append(fs, fault{kind: "restart aggregator, no etcd", target: a.name, hold: 2 * time.Second,
		inject: func() error {
			c.etcd.kill()
			a.kill()
			return a.startAlive()
		},
		heal: func() error {
			if err := c.etcd.start(); err != nil {
				return err
			}
			return a.waitReady()
		}})
	fs = append(fs, restart(c.etcd, 2*time.Second, "kill etcd"))
	for i, s := range c.surveys {
		l := c.links[i]
		fs = append(fs,
			restart(s, 300*time.Millisecond, "kill provider"),
			restart(s, long, "kill provider past lease"),
			// An acknowledged response no sync has fetched yet, then the
			// provider gone past its lease: it must not be forgotten.
			fault{kind: "write, kill past lease", target: s.name, hold: long,
				inject: func() error {
					post(context.Background(), h, s.name, c.writeURL[s.name])
					s.kill()
					return nil
				},
				heal: s.start},
			fault{kind: "pause provider past lease", target: s.name, hold: long,
				inject: func() error { s.signal(syscall.SIGSTOP); return nil },
				heal:   func() error { s.signal(syscall.SIGCONT); return nil }},
			fault{kind: "slow link", target: s.name, hold: 3 * time.Second,
				inject: func() error { l.slow(400 * time.Millisecond); return nil },
				heal:   func() error { l.heal(); return nil }},
			fault{kind: "cut link", target: s.name, hold: 3 * time.Second,
				inject: func() error { l.sever(); return nil },
				heal:   func() error { l.heal(); return nil }},
		)
	}
	if pgRestart != "" {
		fs = append(fs, fault{kind: "restart postgres", target: "postgres", hold: 0,
			inject: func() error { return restartPostgres(pgRestart) },
			heal:   func() error { return nil }})
	}
	return fs
}

// nemesis injects faults one at a time, in a shuffled order that covers
// every kind before repeating, until stop is closed; between faults the
// system gets recovery time to settle.
type nemesis struct {
	faults   []fault
	recovery time.Duration
	rng      *rand.Rand

	mu     sync.Mutex
	events []event
}

func (n *nemesis) run(stop <-chan struct{}) {
	for {
		order := n.rng.Perm(len(n.faults))
		for _, i := range order {
			select {
			case <-stop:
				return
			default:
			}
			n.one(n.faults[i], stop)
		}
	}
}

// once injects every fault once, in shuffled order.
func (n *nemesis) once() {
	for _, i := range n.rng.Perm(len(n.faults)) {
		n.one(n.faults[i], nil)
	}
}

func (n *nemesis) one(f fault, stop <-chan struct{}) {
	ev := event{kind: f.kind, target: f.target, start: time.Now()}
	ev.injectErr = f.inject()
	wait(f.hold, stop)
	ev.healed = time.Now()
	ev.err = f.heal()
	wait(n.recovery, nil)
	ev.recovered = time.Now()
	n.mu.Lock()
	n.events = append(n.events, ev)
	n.mu.Unlock()
}

// wait waits for d, or until stop is closed.
func wait(d time.Duration, stop <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	}
}

// during returns the fault whose window (start to recovered) holds at, or
// "none".
func during(events []event, at time.Time) string {
	for _, e := range events {
		if !at.Before(e.start) && at.Before(e.recovered) {
			return e.kind
		}
	}
	return "none"
}

func (e event) String() string {
	s := fmt.Sprintf("%s %-28s %-9s %6.1fs", e.start.Format("15:04:05.000"), e.kind, e.target, e.healed.Sub(e.start).Seconds())
	if e.injectErr != nil {
		s += " inject: " + e.injectErr.Error()
	}
	if e.err != nil {
		s += " heal: " + e.err.Error()
	}
	return s
}
