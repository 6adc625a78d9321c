// Command sim runs the report and reviewer services' pure domain (the
// adaptive jury's sequential test, the accuracy rule, gold mixing, appeals)
// over synthetic jurors and report streams whose true answers it knows, and
// prints one line per policy and scenario. The platform's side of the
// simulation sees jurors only through gold answers and past agreement.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	report "github.com/govern/report/domain"
)

// Policies are the table's rows, in order.
func Policies() []Policy {
	return []Policy{Classic(5, 3), Classic(9, 5), Classic(15, 8), Adaptive(report.DefaultAdaptiveJury())}
}

// Table runs every policy in every scenario, without and with gold and
// appeals, and returns the lines in a fixed order.
func Table(set Settings, only string) []Result {
	var out []Result
	for _, sc := range Scenarios {
		for _, p := range Policies() {
			for _, opt := range []struct{ gold, appeals bool }{{false, false}, {true, false}, {true, true}} {
				s := set
				s.Gold, s.Appeals = opt.gold, opt.appeals
				r := Run(p, sc, s)
				if only == "" || strings.Contains(r.Line(), only) {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

func main() {
	set := DefaultSettings()
	flag.Uint64Var(&set.Seed, "seed", set.Seed, "random seed; the output is the same for the same seed")
	flag.IntVar(&set.Cases, "cases", set.Cases, "reports per line")
	flag.IntVar(&set.Jurors, "jurors", set.Jurors, "jurors in the pool")
	only := flag.String("only", "", "print only lines containing this text")
	flag.Parse()
	fmt.Printf("seed %d, %d cases per line, %d jurors, %.0f reports an hour; gold_rate %.2f (%.2f for the first %d gold answers), min_gold %d, min_gold_accuracy %.2f, prior Beta(%.0f,%.0f)\n",
		set.Seed, set.Cases, set.Jurors, set.CasesPerHour, set.GoldMix.Rate, set.GoldMix.ProbationRate, set.GoldMix.Probation, set.Rule.MinGold, set.Rule.MinGoldAccuracy, set.Prior.Correct, set.Prior.Wrong)
	start := time.Now()
	results := Table(set, *only)
	for _, r := range results {
		fmt.Println(r.Line())
	}
	total := 0
	for _, r := range results {
		total += r.Cases
	}
	elapsed := time.Since(start)
	// Timing goes to stderr: stdout is the same for the same seed.
	fmt.Fprintf(os.Stderr, "%d cases in %s (%.0f cases/s)\n", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
}
