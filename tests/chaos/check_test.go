package chaos

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// overrunMargin is how far past its deadline an answer may come.
const overrunMargin = 100 * time.Millisecond

// report is what the checker found.
type report struct {
	writes  map[outcome]int
	reads   int
	byFault map[string]*faultStats // reads by the fault active when they were sent

	stale, lost, duplicated, unexpected, overruns, serverErrors, unanswered int
	serverBy                                                                map[string]int // 5xx by status and the read's deadline
	examples                                                                []string       // of violations
	notes                                                                   []string       // of 5xx and unanswered reads
}

// faultStats are the reads sent during one kind of fault.
type faultStats struct {
	reads, answered, incomplete, stale, serverErrors, unanswered, overruns int
	latencies                                                              []time.Duration
	why                                                                    map[string]int // "provider status: error" of incomplete answers
}

func (r *report) example(format string, args ...any) {
	if len(r.examples) < 20 {
		r.examples = append(r.examples, fmt.Sprintf(format, args...))
	}
}

// note keeps an example of a failure that is not a violation.
func (r *report) note(format string, args ...any) {
	if len(r.notes) < 10 {
		r.notes = append(r.notes, fmt.Sprintf(format, args...))
	}
}

// failures is the number of violations of the guarantee.
func (r *report) failures() int {
	return r.stale + r.lost + r.duplicated + r.unexpected + r.overruns
}

// writeIndex finds writes by text, and the acknowledged ones by bucket.
type writeIndex struct {
	byText map[string]write
	acked  map[string][]write // bucket to acknowledged writes, in ack order
}

func indexWrites(ws []write) writeIndex {
	ix := writeIndex{byText: map[string]write{}, acked: map[string][]write{}}
	for _, w := range ws {
		ix.byText[w.text] = w
		if w.outcome == acked {
			ix.acked[w.bucket] = append(ix.acked[w.bucket], w)
		}
	}
	return ix
}

// check classifies every read against the writes. A read of a bucket is
// stale when it is complete and lacks a write acknowledged before it was
// sent, or when it lacks such a write of a provider it reports ok, or of
// a provider it does not name at all. With a full page only the writes
// newer than the page's oldest row are in its scope.
func check(h *history, events []event) *report {
	h.mu.Lock()
	ws, rs := slices.Clone(h.writes), slices.Clone(h.reads)
	h.mu.Unlock()
	ix := indexWrites(ws)
	rep := &report{writes: map[outcome]int{}, byFault: map[string]*faultStats{}, serverBy: map[string]int{}}
	for _, w := range ws {
		rep.writes[w.outcome]++
	}
	for _, r := range rs {
		rep.reads++
		fs := rep.byFault[during(events, r.sent)]
		if fs == nil {
			fs = &faultStats{}
			rep.byFault[during(events, r.sent)] = fs
		}
		fs.reads++
		took := r.done.Sub(r.sent)
		if took > r.timeout+overrunMargin {
			rep.overruns++
			fs.overruns++
			rep.example("overrun: %s took %v for a %v deadline (status %d)", r.bucket, took, r.timeout, r.status)
		}
		switch {
		case r.err != nil || r.status == 0:
			rep.unanswered++
			fs.unanswered++
			if kind := during(events, r.sent); kind != "kill dashboard" {
				rep.note("unanswered during %s, sent %s: %v", kind, r.sent.Format("15:04:05.000"), r.err)
			}
			continue
		case r.status >= 500:
			rep.serverErrors++
			fs.serverErrors++
			rep.serverBy[fmt.Sprintf("%d with a %v deadline", r.status, r.timeout)]++
			rep.note("%d for a %v deadline during %s, sent %s: %s", r.status, r.timeout, during(events, r.sent), r.sent.Format("15:04:05.000"), strings.TrimSpace(r.body))
			continue
		case r.status != 200:
			rep.example("read %s with a %v deadline: status %d %s", r.bucket, r.timeout, r.status, strings.TrimSpace(r.body))
			rep.unexpected++
			continue
		}
		fs.answered++
		fs.latencies = append(fs.latencies, took)
		if !r.complete {
			fs.incomplete++
			if fs.why == nil {
				fs.why = map[string]int{}
			}
			for name, st := range r.providers {
				if st.Status != "ok" {
					fs.why[name+" "+st.Status+": "+st.Error]++
				}
			}
		}
		if n := checkRead(rep, ix, r); n > 0 {
			fs.stale += n
		}
	}
	return rep
}

// checkRead checks one answer and returns how many stale findings it made.
func checkRead(rep *report, ix writeIndex, r read) int {
	seen := map[string]bool{}
	oldest := time.Time{}
	for _, row := range r.rows {
		key := row.Provider + "/" + row.ProviderID
		if seen[key] {
			rep.duplicated++
			rep.example("duplicate in one answer: %s", key)
		}
		seen[key] = true
		w, ok := ix.byText[row.Text]
		switch {
		case !ok:
			rep.unexpected++
			rep.example("never written: %+v", row)
		case w.outcome == failed:
			rep.unexpected++
			rep.example("a failed write appeared: %s", w.text)
		case w.outcome == acked && (w.provider != row.Provider || w.id != row.ProviderID):
			rep.unexpected++
			rep.example("%s stored as %s, acknowledged as %s/%s", w.text, key, w.provider, w.id)
		}
		if oldest.IsZero() || row.CreatedAt.Before(oldest) {
			oldest = row.CreatedAt
		}
	}
	full := len(r.rows) >= r.limit
	stale := 0
	for _, w := range ix.acked[r.bucket] {
		if !w.end.Before(r.sent) || (full && !w.createdAt.After(oldest)) {
			continue
		}
		if seen[w.provider+"/"+w.id] {
			continue
		}
		st, named := r.providers[w.provider]
		switch {
		case r.complete:
			rep.example("stale: complete answer sent %s lacks %s (acknowledged %s before)", r.sent.Format("15:04:05.000"), w.text, r.sent.Sub(w.end))
		case !named:
			rep.example("stale: incomplete answer sent %s lacks %s and does not name %s", r.sent.Format("15:04:05.000"), w.text, w.provider)
		case st.Status == "ok":
			rep.example("stale: answer sent %s reports %s ok but lacks %s", r.sent.Format("15:04:05.000"), w.provider, w.text)
		default:
			continue // named as not synced: allowed
		}
		stale++
		rep.stale++
	}
	return stale
}

// checkFinal compares a complete read of every bucket, taken after the
// last fault healed and the writers stopped, with the writes: every
// acknowledged write once, nothing unwritten.
func checkFinal(rep *report, ws []write, final map[string]read) {
	ix := indexWrites(ws)
	texts := map[string]int{}
	for bucket, r := range final {
		for _, row := range r.rows {
			texts[row.Text]++
		}
		if !r.complete {
			rep.lost++
			rep.example("final read of %s incomplete: %+v", bucket, r.providers)
		}
	}
	for text, n := range texts {
		if n > 1 {
			rep.duplicated++
			rep.example("final: %s stored %d times", text, n)
		}
		if w, ok := ix.byText[text]; !ok || w.outcome == failed {
			rep.unexpected++
			rep.example("final: %s present but never written or failed", text)
		}
	}
	for _, w := range ws {
		if w.outcome == acked && texts[w.text] == 0 {
			rep.lost++
			rep.example("lost: %s acknowledged by %s at %s", w.text, w.provider, w.end.Format("15:04:05.000"))
		}
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (r *report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "writes: %d acknowledged, %d failed, %d indeterminate\n", r.writes[acked], r.writes[failed], r.writes[indeterminate])
	fmt.Fprintf(&b, "reads: %d; stale %d, lost %d, duplicated %d, unexpected %d, overruns %d (> deadline + %v), 5xx %d, unanswered %d\n",
		r.reads, r.stale, r.lost, r.duplicated, r.unexpected, r.overruns, overrunMargin, r.serverErrors, r.unanswered)
	if len(r.serverBy) > 0 {
		by := make([]string, 0, len(r.serverBy))
		for k, n := range r.serverBy {
			by = append(by, fmt.Sprintf("%d× %s", n, k))
		}
		sort.Strings(by)
		fmt.Fprintf(&b, "5xx: %s\n", strings.Join(by, ", "))
	}
	fmt.Fprintf(&b, "%-28s %7s %7s %11s %6s %5s %10s %9s %8s\n", "during", "reads", "answers", "incomplete", "stale", "5xx", "unanswered", "p50", "p99")
	kinds := make([]string, 0, len(r.byFault))
	for k := range r.byFault {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		f := r.byFault[k]
		share := 0.0
		if f.answered > 0 {
			share = 100 * float64(f.incomplete) / float64(f.answered)
		}
		fmt.Fprintf(&b, "%-28s %7d %7d %10.1f%% %6d %5d %10d %9v %8v\n", k, f.reads, f.answered, share, f.stale, f.serverErrors, f.unanswered,
			percentile(f.latencies, 0.5).Round(100*time.Microsecond), percentile(f.latencies, 0.99).Round(100*time.Microsecond))
	}
	for _, k := range kinds {
		type reason struct {
			text string
			n    int
		}
		var rs []reason
		for text, n := range r.byFault[k].why {
			rs = append(rs, reason{text, n})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n })
		for _, x := range rs[:min(3, len(rs))] {
			fmt.Fprintf(&b, "  incomplete during %s: %d× %s\n", k, x.n, x.text)
		}
	}
	for _, e := range append(slices.Clone(r.examples), r.notes...) {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}
