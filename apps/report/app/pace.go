package app

import (
	"sync"
	"time"
)

// The round starter schedules rounds behind the intake: while reports arrive
// faster than BusyIntake a second, it starts one round at a time, at most
// RoundStartsBehindIntake a second, so that the workflow engine's work (the
// sidecar, the scheduler, their state transactions, the first draws: about
// 30 ms of CPU a round on the machine of docs/BENCHMARKS.md) does not take
// the cores the intake needs, and yet rounds keep starting under a
// sustained intake; once the intake slows, it keeps RoundStarters in flight
// and the backlog drains as fast as the engine takes the starts. The
// backlog is the cases table (round_started_at IS NULL), so nothing waits
// in memory: a crash or a refused start leaves the case for the next sweep.
const (
	RoundStarters           = 32
	RoundStartsBehindIntake = 5
	BusyIntake              = 100
)

// RoundStarterPace is how many rounds to have in flight at once, and the
// least time between two starts, given how many reports this replica filed
// in the last full second.
func RoundStarterPace(reportsLastSecond int) (inFlight int, gap time.Duration) {
	if reportsLastSecond >= BusyIntake {
		return 1, time.Second / RoundStartsBehindIntake
	}
	return RoundStarters, 0
}

// intakeMeter counts filed reports per second of the process's monotonic
// clock (at: the time since the meter's start).
type intakeMeter struct {
	mu        sync.Mutex
	second    int64 // the second n counts
	n, before int   // reports in that second, and in the one before it
}

func (m *intakeMeter) add(at time.Duration) {
	s := int64(at / time.Second)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.roll(s)
	m.n++
}

// lastSecond is how many reports the last full second counted.
func (m *intakeMeter) lastSecond(at time.Duration) int {
	s := int64(at / time.Second)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.roll(s)
	return m.before
}

func (m *intakeMeter) roll(s int64) {
	switch {
	case s == m.second:
	case s == m.second+1:
		m.second, m.before, m.n = s, m.n, 0
	case s > m.second:
		m.second, m.before, m.n = s, 0, 0
	}
}

var meterStart = time.Now()

// sinceStart is the meter's clock: monotonic, whatever Service.Now says.
func sinceStart() time.Duration { return time.Since(meterStart) }
