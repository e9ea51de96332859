// Package imports checks the workspace's dependency rules against the
// import declarations of every Go file in the repository, tests included:
//
//   - Domain code imports neither net/http nor a database or etcd client
//     (net/http, database/sql, github.com/lib/pq, go.etcd.io/...). Domain
//     code is every non-test file of a domain package (aggregator-svc/syncer)
//     and, in the packages that hold a service's domain and its transport
//     together (survey-svc/survey, aggregator-svc/aggregate,
//     dashboard-svc/dashboard), every file but the transport's
//     (transport*.go, endpoints*.go, middleware*.go) and the tests.
//   - A service module (xii/survey-svc, xii/aggregator-svc,
//     xii/dashboard-svc) imports, of the workspace's modules, only itself,
//     xii/libs and xii/observability: services talk over their APIs.
//   - xii/libs and xii/observability import no service module.
//
// It has no code; the rules are in its test.
package imports
