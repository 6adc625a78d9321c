package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/govern/tests/platform"
)

// processKinds are the ten kinds of process a fault can hit, in the order
// the summary line names them.
var processKinds = []string{
	"report", "report-dapr", "reviewer", "reviewer-dapr", "reward", "reward-dapr",
	platform.Placement, platform.Scheduler, platform.Postgres, platform.Redis,
}

// faults kills -9 and restarts, or pauses and resumes, one process at a
// time. The order and timing come from the seed: kinds are drawn from a
// shuffled bag of all ten, so that every kind is hit about equally often.
type faults struct {
	plat  *platform.Platform
	rng   *rand.Rand
	start time.Time
	bag   []string
	kills map[string]int
	pause map[string]int
}

func newFaults(plat *platform.Platform, seed uint64, start time.Time) *faults {
	return &faults{plat: plat, rng: rand.New(rand.NewPCG(seed, 0xfa17)), start: start,
		kills: map[string]int{}, pause: map[string]int{}}
}

func (f *faults) nextKind() string {
	if len(f.bag) == 0 {
		f.bag = slices.Clone(processKinds)
		f.rng.Shuffle(len(f.bag), func(i, j int) { f.bag[i], f.bag[j] = f.bag[j], f.bag[i] })
	}
	k := f.bag[0]
	f.bag = f.bag[1:]
	return k
}

func (f *faults) span(minMs, maxMs int) time.Duration {
	return time.Duration(minMs+f.rng.IntN(maxMs-minMs)) * time.Millisecond
}

// run injects faults until ctx ends; a fault in progress is carried to its
// end (the process restarted or resumed) first. An error means the platform
// could not be brought back, which ends the run.
func (f *faults) run(ctx context.Context) error {
	for {
		gap := f.span(2000, 6000)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(gap):
		}
		kind := f.nextKind()
		var err error
		if f.rng.Float64() < 0.75 {
			err = f.kill(kind, f.span(200, 4000))
		} else {
			err = f.suspend(kind, f.span(1000, 6000))
		}
		if err != nil {
			return err
		}
	}
}

func isInfra(kind string) bool { return slices.Contains(platform.InfraKinds, kind) }

// kill sends SIGKILL, leaves the process down for a while, starts it again
// exactly as before and waits until the whole platform is ready.
func (f *faults) kill(kind string, down time.Duration) error {
	var err error
	if isInfra(kind) {
		err = f.plat.KillInfra(kind)
	} else {
		err = f.plat.Kill(kind)
	}
	if err != nil {
		return fmt.Errorf("kill -9 %s: %w", kind, err)
	}
	f.kills[kind]++
	time.Sleep(down)
	began := time.Now()
	if err := f.restart(kind); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.plat.WaitReady(ctx); err != nil {
		return fmt.Errorf("platform not ready after restarting %s: %w", kind, err)
	}
	logf(f.start, "fault: kill -9 %s, down %.1fs, ready %.1fs after restart", kind, down.Seconds(), time.Since(began).Seconds())
	return nil
}

func (f *faults) restart(kind string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	switch {
	case isInfra(kind):
		err = f.plat.RestartInfra(ctx, kind)
	case strings.HasSuffix(kind, "-dapr"):
		err = f.plat.StartSidecar(strings.TrimSuffix(kind, "-dapr"))
	default:
		err = f.plat.StartApp(kind)
	}
	if err != nil {
		return fmt.Errorf("restart %s: %w", kind, err)
	}
	return nil
}

// suspend stops every process of kind with SIGSTOP for a while: a dependency
// that hangs instead of failing.
func (f *faults) suspend(kind string, d time.Duration) error {
	if err := f.signal(kind, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause %s: %w", kind, err)
	}
	f.pause[kind]++
	time.Sleep(d)
	if err := f.signal(kind, syscall.SIGCONT); err != nil {
		return fmt.Errorf("resume %s: %w", kind, err)
	}
	logf(f.start, "fault: SIGSTOP %s for %.1fs, then SIGCONT", kind, d.Seconds())
	return nil
}

func (f *faults) signal(kind string, sig syscall.Signal) error {
	if isInfra(kind) {
		if sig == syscall.SIGSTOP {
			return f.plat.PauseInfra(kind)
		}
		return f.plat.ResumeInfra(kind)
	}
	return f.plat.Signal(kind, sig)
}

// heal makes sure every process runs and none is paused, whatever the last
// fault left behind, and waits for the platform to be ready.
func (f *faults) heal(ctx context.Context) error {
	for _, kind := range processKinds {
		running := f.plat.Running(kind)
		if isInfra(kind) {
			_, err := f.plat.InfraPIDs(kind)
			running = err == nil
		}
		if !running {
			if err := f.restart(kind); err != nil {
				return err
			}
		}
		_ = f.signal(kind, syscall.SIGCONT)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return f.plat.WaitReady(ctx)
}

func (f *faults) total() int {
	n := 0
	for _, k := range processKinds {
		n += f.kills[k] + f.pause[k]
	}
	return n
}

// summary is "kills 41 (report 6, ...) · pauses 9 (postgres 3, ...)".
func (f *faults) summary() string {
	part := func(word string, m map[string]int, all bool) string {
		n, parts := 0, []string{}
		for _, k := range processKinds {
			n += m[k]
			if all || m[k] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
			}
		}
		return fmt.Sprintf("%s %d (%s)", word, n, strings.Join(parts, ", "))
	}
	// Every kind is named among the kills, so a kind never killed shows.
	return part("kills", f.kills, true) + " · " + part("pauses", f.pause, false)
}
