// Command load measures the platform's figures next to their bare ceilings,
// in one run on one machine (issue 11). Implemented so far: intake over HTTP
// beside bare single-row INSERT commits, redemptions beside a pgx
// transaction of the same shape, the jury draw beside a bare indexed
// SELECT ... LIMIT 5, full rounds with voting bots beside a bare
// workflow of the same shape, vote -> decision and vote -> credit beside the
// outbox's own hold, intake over the topic beside the broker's own
// publish -> consume rate, and open rounds with the report app's and
// sidecar's RSS (see docs/BENCHMARKS.md for what is not). It prints a
// progress line every few seconds, then the table, which it also writes to
// docs/BENCHMARKS.md with the command that produced it; CPU and heap
// profiles of the apps and sidecars go to .local/load/profiles.
//
// Run it through scripts/load.sh (make load), which starts PostgreSQL, Redis,
// placement and scheduler on the load profile. Settings (environment):
//
//	LOAD_PHASES       comma-separated subset of redeem,jury,rounds,open,intake,topic (default all, in that order)
//	LOAD_SCALE        multiplies every count (default 1)
//	LOAD_USERS        eligible users seeded for the jury draw (default 200000)
//	LOAD_DRAIN_MAX    longest wait for the intake's round backlog to drain (default 3m)
//	LOAD_OPEN_MAX     longest the open phase goes on opening rounds (default 4m)
//	LOAD_SIDECAR_GOMEMLIMIT  the report sidecar's GOMEMLIMIT (default 800MiB; "off" for none)
//	LOAD_OUT          the table's file (default docs/BENCHMARKS.md; "-" only prints)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/govern/tests/platform"
)

// allPhases in their default order: rounds before intake, which leaves
// rounds open (rounds stops the report app for its bare probe); open before
// intake too, whose backlog of cases without a round would start first and
// keep the open phase from opening any.
var allPhases = []string{"redeem", "jury", "rounds", "open", "intake", "topic"}

type options struct {
	phases   []string
	scale    float64
	drainMax time.Duration
	openMax  time.Duration
	users    int
	out      string
	// sidecarMemLimit is the report sidecar's GOMEMLIMIT ("" for none).
	sidecarMemLimit string
}

// defaultSidecarMemLimit is the report sidecar's GOMEMLIMIT in the load
// run: a report pod sized for the 100,000 open rounds has 1 GiB for
// its two containers, about 100 MiB of it the app's, and the sidecar's
// GOMEMLIMIT at about 90 % of the rest (the rule manifests/README.md gives).
// Without one, the sidecar's heap grows to twice its live heap (GOGC=100)
// before it collects, and its RSS says more about the collector's pace than
// about what the open rounds hold.
const defaultSidecarMemLimit = "800MiB"

var memLimitRE = regexp.MustCompile(`^[0-9]+(B|KiB|MiB|GiB)$`)

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func parseOptions() (options, error) {
	o := options{phases: allPhases}
	var err error
	if o.scale, err = strconv.ParseFloat(env("LOAD_SCALE", "1"), 64); err != nil || o.scale <= 0 {
		return o, fmt.Errorf("LOAD_SCALE must be a positive number")
	}
	if v := os.Getenv("LOAD_PHASES"); v != "" {
		o.phases = nil
		for _, p := range strings.Split(v, ",") {
			if !slices.Contains(allPhases, strings.TrimSpace(p)) {
				return o, fmt.Errorf("LOAD_PHASES: unknown phase %q (known: %s)", p, strings.Join(allPhases, ","))
			}
			o.phases = append(o.phases, strings.TrimSpace(p))
		}
	}
	if o.drainMax, err = time.ParseDuration(env("LOAD_DRAIN_MAX", "3m")); err != nil {
		return o, fmt.Errorf("LOAD_DRAIN_MAX: %w", err)
	}
	if o.openMax, err = time.ParseDuration(env("LOAD_OPEN_MAX", "4m")); err != nil || o.openMax <= 0 {
		return o, fmt.Errorf("LOAD_OPEN_MAX must be a positive duration")
	}
	if o.users, err = strconv.Atoi(env("LOAD_USERS", "200000")); err != nil || o.users < 5 {
		return o, fmt.Errorf("LOAD_USERS must be a whole number of at least 5")
	}
	switch o.sidecarMemLimit = env("LOAD_SIDECAR_GOMEMLIMIT", defaultSidecarMemLimit); {
	case o.sidecarMemLimit == "off":
		o.sidecarMemLimit = ""
	case !memLimitRE.MatchString(o.sidecarMemLimit):
		return o, fmt.Errorf("LOAD_SIDECAR_GOMEMLIMIT must be a size such as 800MiB, or off")
	}
	o.out = env("LOAD_OUT", filepath.Join(os.Getenv("GOVERN_ROOT"), "docs", "BENCHMARKS.md"))
	return o, nil
}

// n scales a count, never below 1.
func (o options) n(base int) int { return max(1, int(float64(base)*o.scale)) }

func main() {
	o, err := parseOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	os.Exit(run(o))
}

func run(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The apps' background loops at their production intervals: the
	// harness's 1 s gauges and sweeps (for the tests' sake) are extra work
	// no deployment does (the case gauge alone scanned every case once a
	// second).
	popts := platform.Options{AppEnv: []string{
		"ROUND_SWEEP_INTERVAL=5s", "CASE_GAUGE_INTERVAL=15s", "POOL_GAUGE_INTERVAL=15s"}}
	if o.sidecarMemLimit != "" {
		popts.SidecarEnv = map[string][]string{"report": {"GOMEMLIMIT=" + o.sidecarMemLimit}}
	}
	plat, err := platform.FromEnvWith(popts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 2
	}
	logf("phases %s, scale %g: starting the platform", strings.Join(o.phases, ","), o.scale)
	boot, cancel := context.WithTimeout(ctx, 3*time.Minute)
	err = startPlatform(boot, plat)
	cancel()
	defer plat.Stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: start platform:", err)
		return 2
	}
	l, err := newLoad(ctx, plat, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: set up:", err)
		return 2
	}
	defer l.close()
	logf("platform ready")
	phases := map[string]func(context.Context) error{
		"redeem": l.redeem, "intake": l.intake, "jury": l.jury, "rounds": l.rounds,
		"topic": l.topic, "open": l.open,
	}
	failed := false
	for _, name := range o.phases {
		logf("== phase %s", name)
		l.resetStatements(ctx)
		t0 := time.Now()
		if err := phases[name](ctx); err != nil {
			logf("phase %s failed: %v", name, err)
			l.note("phase %s failed: %v", name, err)
			failed = true
		}
		l.writeStatements(ctx, name, time.Since(t0))
		logf("== phase %s took %s", name, time.Since(t0).Round(time.Second))
		if ctx.Err() != nil {
			break
		}
	}
	table := l.table()
	fmt.Println()
	fmt.Println(table)
	if o.out != "-" {
		if err := writeBenchmarks(o.out, table); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			return 2
		}
		logf("table written to %s", o.out)
	}
	if failed {
		return 1
	}
	return 0
}

// startPlatform boots the three apps and their sidecars.
func startPlatform(ctx context.Context, plat *platform.Platform) error {
	return plat.Start(ctx)
}
