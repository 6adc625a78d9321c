package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Where the cores go during a profile window: every process's user and
// system time (from /proc, so PostgreSQL's backends, the scheduler and the
// load tool itself count too, not only the processes that serve pprof),
// taken per process (a process that started in the window counts whole)
// and summed by role: the command name, "<app id>-dapr" for a sidecar, and
// "kernel workers" for the kworker threads, whose names change with the
// work they do.

// userHZ is the kernel's clock tick for /proc times (USER_HZ, 100 on Linux).
const userHZ = 100

// cpuSample is the CPU time used so far, by role, and the machine's busy
// and total ticks (/proc/stat).
type cpuSample struct {
	at         time.Time
	procs      map[string]procCPU // by pid
	busy, all  uint64
	unreadable bool
}

type procCPU struct {
	role  string
	ticks uint64
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now(), procs: map[string]procCPU{}}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := bytes.Cut(b, []byte("\n"))
		f := strings.Fields(string(line))
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			s.all += n
			if i != 3 && i != 4 { // idle, iowait
				s.busy += n
			}
		}
	} else {
		s.unreadable = true
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		role, ticks, ok := processCPU(d)
		if ok {
			s.procs[filepath.Base(d)] = procCPU{role, ticks}
		}
	}
	return s
}

// processCPU reads one /proc/<pid>: its role and utime+stime.
func processCPU(dir string) (string, uint64, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return "", 0, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	comm := string(b[open+1 : end])
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return "", 0, false
	}
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	if strings.HasPrefix(comm, "kworker/") {
		comm = "kernel workers"
	}
	if comm == "daprd" {
		if cmd, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
			args := strings.Split(string(cmd), "\x00")
			for i, a := range args {
				if a == "--app-id" && i+1 < len(args) {
					comm = args[i+1] + "-dapr"
				}
			}
		}
	}
	return comm, utime + stime, true
}

// cpuUse is what happened between two samples.
type cpuUse struct {
	window time.Duration
	busy   float64 // share of all cores
	roles  []roleUse
}

type roleUse struct {
	role  string
	cores float64 // cores used on average (1 = one core all the time)
}

func cpuBetween(a, b cpuSample) cpuUse {
	u := cpuUse{window: b.at.Sub(a.at)}
	if b.all > a.all {
		u.busy = float64(b.busy-a.busy) / float64(b.all-a.all)
	}
	secs := u.window.Seconds()
	byRole := map[string]uint64{}
	for pid, p := range b.procs {
		before, ok := a.procs[pid]
		switch {
		case !ok || before.ticks > p.ticks: // started in the window (or a new process under an old pid)
			byRole[p.role] += p.ticks
		default:
			byRole[p.role] += p.ticks - before.ticks
		}
	}
	for role, d := range byRole {
		if d > 0 && secs > 0 {
			u.roles = append(u.roles, roleUse{role, float64(d) / userHZ / secs})
		}
	}
	sort.Slice(u.roles, func(i, j int) bool { return u.roles[i].cores > u.roles[j].cores })
	return u
}

// total is the cores the roles used together.
func (u cpuUse) total() float64 {
	t := 0.0
	for _, r := range u.roles {
		t += r.cores
	}
	return t
}

// String lists the roles that used at least 1 % of a core, biggest first.
func (u cpuUse) String() string {
	var parts []string
	for _, r := range u.roles {
		if r.cores >= 0.01 {
			parts = append(parts, fmt.Sprintf("%s %.0f %%", r.role, 100*r.cores))
		}
	}
	return fmt.Sprintf("machine %.0f %% busy over %s (%d cores); of one core: %s", 100*u.busy, u.window.Round(time.Second), numCPU(),
		strings.Join(parts, ", "))
}
