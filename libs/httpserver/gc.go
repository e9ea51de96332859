package httpserver

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultGOGC is the collector's heap growth target when GOGC is not set.
// An xii service keeps a small live heap (tens of MB) and spends its CPU
// on answers; at 500 answers a second, 400 instead of Go's default of 100
// took the CPU per answer to 0.87-0.89x (docs/measurements.md §13), for
// a few times that heap.
const DefaultGOGC = 400

// memoryShare is the share of the container's memory limit the collector
// keeps the heap under (a soft limit), when GOMEMLIMIT is not set: the
// larger growth target gives way before the container is killed.
const memoryShare = 0.9

// cgroupMemoryMax is the cgroup v2 file that holds the container's memory
// limit, "max" for none.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// tuneGC applies gcSettings to the running process.
func tuneGC() {
	limit, _ := os.ReadFile(cgroupMemoryMax) // no file: no limit known
	percent, memLimit := gcSettings(os.LookupEnv, string(limit))
	if percent > 0 {
		debug.SetGCPercent(percent)
	}
	if memLimit > 0 {
		debug.SetMemoryLimit(memLimit)
	}
}

// gcSettings returns the GC percent and the soft memory limit to set, 0
// for "leave as the runtime has it": DefaultGOGC unless GOGC is set, and
// memoryShare of memoryMax (the content of cgroupMemoryMax) unless
// GOMEMLIMIT is set or there is no limit.
func gcSettings(lookup func(string) (string, bool), memoryMax string) (percent int, memLimit int64) {
	if _, ok := lookup("GOGC"); !ok {
		percent = DefaultGOGC
	}
	if _, ok := lookup("GOMEMLIMIT"); !ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(memoryMax), 10, 64); err == nil && n > 0 {
			memLimit = int64(float64(n) * memoryShare)
		}
	}
	return percent, memLimit
}
