// Package discovery is how xii services find each other through etcd.
//
// The etcd layout:
//
//	/xii/providers/<name>   a survey provider, value a JSON Descriptor:
//	                        {"url":"http://127.0.0.1:1101","dialect":"xii-v1"}
//	/xii/services/<name>    an internal service (such as the aggregator)
//	                        announcing itself; the value is the service's own
//
// A survey-svc instance registers its provider key with a Registrar, under a
// lease, so the key disappears when the instance dies. External providers
// (Typeform, Alchemer and the like) are written by hand with etcdctl and carry no
// lease. A descriptor never holds credentials: etcd is readable by every
// service, so provider tokens live in the aggregator's own configuration.
//
// Names are 1 to 64 letters, digits, '-', '_' or '.', not starting with '.';
// they appear as the last key segment, in logs, metrics and the aggregate
// table.
//
// The package is xii's one layer over etcd: a Registrar keeps a key
// registered, Follow follows a prefix (the aggregator's providers and
// configuration, the dashboard's aggregator replicas), and an Elector
// elects one replica for what only one should do.
//
// The Registrar keeps its key under the lease of an etcd concurrency
// Session, as the election does. It watches its own key and registers
// again, with a capped backoff, after the key is deleted or overwritten,
// the lease revoked or expired, or etcd was out of reach for a whole lease
// TTL (the session's keepalives end then). Start-up never waits for etcd.
package discovery
