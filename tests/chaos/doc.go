// Package chaos tests xii's freshness guarantee the way etcd's robustness
// tests and Jepsen do: the real binaries run as processes (three survey
// instances behind link proxies, two aggregator replicas sharing one
// aggregate, a dashboard, an etcd the test can kill, the local
// PostgreSQL), writers and readers run against them, and faults are
// injected one at a time with recovery in between. A checker then
// classifies every write and every read from what the clients saw.
//
// The test is TestChaos; see its comment for the knobs. `make test` runs a
// short run, `make chaos` a long one.
package chaos
