package httpserver

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"xii/libs/throttle"
)

// shedLogEvery is how often shedding is logged, with the count since.
const shedLogEvery = 10 * time.Second

// overloaded is the answer to a request shed by LimitInFlight.
const overloaded = `{"error":"too many requests in flight; retry shortly","code":"overloaded"}` + "\n"

// InFlight bounds the requests a handler serves at once. A request past
// the limit is answered at once with 503 and Retry-After: on a machine
// whose CPU is saturated, each request admitted past that point only
// makes every other one later, until all of them miss their deadlines;
// shed early, the ones admitted are answered in time and the client
// knows to come back.
type InFlight struct {
	limit int64
	next  http.Handler
	log   *slog.Logger // nil: shedding is not logged
	every *throttle.Throttle

	active atomic.Int64
	shed   atomic.Int64
}

// LimitInFlight returns next bounded to limit requests at once; limit 0
// or less returns next itself, unbounded.
func LimitInFlight(limit int, next http.Handler) http.Handler {
	if limit <= 0 {
		return next
	}
	return &InFlight{limit: int64(limit), next: next}
}

func (l *InFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.active.Add(1) > l.limit {
		l.active.Add(-1)
		l.shed.Add(1)
		if l.log != nil {
			if ok, held := l.every.Allow("shed", time.Now()); ok {
				l.log.WarnContext(r.Context(), "shedding load: API requests past the in-flight bound answered 503",
					"max_in_flight", l.limit, "shed_since_last_line", held+1, "shed_total", l.shed.Load())
			}
		}
		h := w.Header()
		h.Set("Retry-After", "1")
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(overloaded))
		return
	}
	defer l.active.Add(-1)
	l.next.ServeHTTP(w, r)
}

// Shed returns how many requests were answered 503 so far.
func (l *InFlight) Shed() int64 { return l.shed.Load() }
