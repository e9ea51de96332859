package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// cpuEach returns the user and system CPU time each process has used,
// from /proc/<pid>/stat.
func cpuEach(pids []int) ([]float64, error) {
	out := make([]float64, len(pids))
	for i, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil, fmt.Errorf("cpu of process %d: %w", pid, err)
		}
		if out[i], err = parseStat(string(b)); err != nil {
			return nil, fmt.Errorf("cpu of process %d: %w", pid, err)
		}
	}
	return out, nil
}

// parseStat returns utime + stime of a /proc/<pid>/stat line, in seconds.
// The command name, field 2, is in parentheses and may hold spaces, so
// fields are counted from its closing parenthesis.
func parseStat(line string) (float64, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat %q: no command name", line)
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat: utime %q, stime %q", f[11], f[12])
	}
	return float64(utime+stime) / clockTicks, nil
}

// machineTimes are the whole machine's CPU times from /proc/stat.
type machineTimes struct {
	idle, total uint64
	ok          bool
}

func machineCPU() (machineTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTimes{}, err
	}
	return parseMachine(string(b))
}

// parseMachine reads the first ("cpu ") line of /proc/stat: idle and
// iowait count as not busy.
func parseMachine(s string) (machineTimes, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return machineTimes{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var m machineTimes
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return machineTimes{}, fmt.Errorf("/proc/stat: %q: %w", v, err)
		}
		m.total += n
		if i == 3 || i == 4 {
			m.idle += n
		}
	}
	m.ok = true
	return m, nil
}

// busy is the machine's busy share between before and m.
func (m machineTimes) busy(before machineTimes) string {
	if !m.ok || !before.ok || m.total <= before.total {
		return "-"
	}
	dt := m.total - before.total
	return fmt.Sprintf("%.0f%%", 100*float64(dt-(m.idle-before.idle))/float64(dt))
}
