// Command chaos proves that nothing is lost under faults: while reports are
// filed (HTTP and the reports topic) and voting bots vote, it kills -9 and
// restarts, at random but from a seed, every kind of process the platform
// runs (each app, each sidecar, placement, scheduler, PostgreSQL, Redis) and
// pauses some with SIGSTOP. When the load stops and the platform has settled,
// it checks reports, cases, credits, ledgers, tasks and dead-letter topics,
// and prints one line. It exits 1 when any count is not zero, 2 when the run
// itself could not be carried out.
//
// Run it through scripts/chaos.sh (make chaos), which starts PostgreSQL,
// Redis, placement and scheduler for the chaos profile.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/govern/tests/platform"
)

// dumpStacks asks every app and sidecar for its goroutines (SIGQUIT makes a
// Go process print them to its log and exit): after a failed run, the logs
// in .local/chaos-logs then show where a stalled process was waiting.
func dumpStacks(plat *platform.Platform) {
	for _, name := range processKinds {
		if plat.Running(name) {
			_ = plat.Signal(name, syscall.SIGQUIT)
		}
	}
	time.Sleep(2 * time.Second)
}

// The policy every kind runs with: short enough that every round ends within
// the run, long enough that jurors time out and substitutes are drawn.
const (
	jurySize       = 3
	quorum         = 2
	jurorTimeout   = 10 * time.Second
	maxDuration    = 60 * time.Second
	maxSubstitutes = 2
	// repairBound is how long past its deadline a case may stay open when
	// its round is stranded: the report service's overdue margin (30 s)
	// plus one repair interval (REPAIR_INTERVAL, 1 min by default).
	repairBound = 30*time.Second + time.Minute
)

type options struct {
	seed     uint64
	duration time.Duration
	rate     float64
	jurors   int
}

func envDefault(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func parseOptions() (options, error) {
	var o options
	seed, err := strconv.ParseUint(envDefault("SEED", "7"), 10, 64)
	if err != nil {
		return o, fmt.Errorf("SEED: %w", err)
	}
	dur, err := time.ParseDuration(envDefault("DURATION", "5m"))
	if err != nil {
		return o, fmt.Errorf("DURATION: %w", err)
	}
	rate, err := strconv.ParseFloat(envDefault("RATE", "6"), 64)
	if err != nil || rate <= 0 {
		return o, fmt.Errorf("RATE must be a positive number of reports per second")
	}
	jurors, err := strconv.Atoi(envDefault("JURORS", "30"))
	if err != nil || jurors < jurySize+maxSubstitutes {
		return o, fmt.Errorf("JURORS must be at least %d", jurySize+maxSubstitutes)
	}
	flag.Uint64Var(&o.seed, "seed", seed, "seed of the fault schedule and the load (env SEED)")
	flag.DurationVar(&o.duration, "duration", dur, "how long load and faults run (env DURATION)")
	flag.Float64Var(&o.rate, "rate", rate, "reports per second (env RATE)")
	flag.IntVar(&o.jurors, "jurors", jurors, "voting bots in the juror pool (env JURORS)")
	flag.Parse()
	return o, nil
}

func main() {
	o, err := parseOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	os.Exit(run(o))
}

func logf(start time.Time, format string, a ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
}

func run(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	plat, err := platform.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	logf(start, "seed %d: %s of load at %.1f reports/s and faults, %d voting bots", o.seed, o.duration, o.rate, o.jurors)
	bootCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	err = plat.Start(bootCtx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos: start platform:", err)
		plat.Stop()
		return 2
	}
	defer plat.Stop()
	api := newAPI(plat)
	bots, err := setUp(ctx, api, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos: set up:", err)
		return 2
	}
	logf(start, "platform ready; policies, fatigue, rules and %d jurors set", len(bots.jurors))

	botCtx, stopBots := context.WithCancel(ctx)
	defer stopBots()
	bots.run(botCtx, start)

	faults := newFaults(plat, o.seed, start)
	loadCtx, stopLoad := context.WithTimeout(ctx, o.duration)
	defer stopLoad()
	faultsDone := make(chan error, 1)
	go func() { faultsDone <- faults.run(loadCtx) }()
	load := newLoad(api, plat, o.seed, o.rate, start)
	load.run(loadCtx)
	logf(start, "load stopped: %d reports offered", load.offered())
	if err := <-faultsDone; err != nil {
		fmt.Fprintln(os.Stderr, "chaos: faults:", err)
		return 2
	}
	if err := faults.heal(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "chaos: bring every process back:", err)
		return 2
	}
	logf(start, "every process running again after %d faults", faults.total())
	load.finish(ctx)

	checker, err := newChecker(ctx, plat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	defer checker.close()
	// Every round ends by its case's deadline (max_duration after the case
	// opened, and a case can open late: a report redelivered by the broker
	// after the faults files then); a round the engine strands is closed by
	// the repair loop within repairBound past that deadline. A minute more
	// covers delivery and crediting. The bound follows the latest deadline
	// stored, so it is measured on every pass.
	settleBy := time.Now().Add(maxDuration + time.Minute)
	res := checker.settle(ctx, load, bots, settleBy, repairBound+time.Minute, start)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "chaos: interrupted")
		return 2
	}
	res.report(checker, faults, o.seed)
	if res.failed() {
		dumpStacks(plat)
		return 1
	}
	return 0
}
