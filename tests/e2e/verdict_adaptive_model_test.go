package e2e

import (
	"math/rand/v2"
	"slices"

	report "github.com/govern/report/domain"
	reviewer "github.com/govern/reviewer/domain"
)

// The model behind TestAdaptiveJuriesOnThePlatformMatchTheSimulator: the
// simulator's way of running a round (tools/sim, docs/SIMULATOR.md) cut
// down to the e2e scenario, on the same domain code the services run: the
// classic tally (report.Tally), the sequential test (report.AdaptiveJury)
// and each juror's reliability estimated from their agreement with decided
// cases (reviewer.AccuracyRecord under reviewer.DefaultAccuracyPrior). No
// gold tasks, no timeouts, no appeals. tools/sim is a main package and
// cannot be imported; this is the same loop it runs in advance/onVote.

// modelPhase is one policy run over Cases cases in a row.
type modelPhase struct {
	Adaptive bool
	Jury     report.AdaptiveJury // adaptive
	Size     int                 // classic
	Quorum   int                 // classic
	Truths   []string            // the right answer of each case (VoteUphold or VoteReject)
}

// modelFigures is what a run measures of each phase.
type modelFigures struct {
	Correct       float64 // share of cases decided right
	JurorsPerCase float64 // seats drawn per case
}

type modelSeat struct {
	bot   int
	rel   report.Reliability
	voted bool
	vote  string
}

// modelRun runs the phases one after the other with the same bots, each
// voting the right answer with probability accuracy, and returns the
// figures of every phase.
func modelRun(phases []modelPhase, bots int, accuracy float64, rng *rand.Rand) []modelFigures {
	recs := make([]reviewer.AccuracyRecord, bots)
	prior := reviewer.DefaultAccuracyPrior()
	out := make([]modelFigures, len(phases))
	for pi, ph := range phases {
		var correct, seatsTotal int
		for _, truth := range ph.Truths {
			var seats []*modelSeat
			draw := func(k int) {
				for range k {
					var free []int
					for b := range bots {
						if !slices.ContainsFunc(seats, func(s *modelSeat) bool { return s.bot == b }) {
							free = append(free, b)
						}
					}
					if len(free) == 0 {
						return
					}
					b := free[rng.IntN(len(free))]
					r := prior.Reliability(recs[b])
					seats = append(seats, &modelSeat{bot: b, rel: report.Reliability{Uphold: r.Uphold, Reject: r.Reject}})
				}
			}
			voteNext := func() bool { // a random open seat votes; false if none is open
				var open []*modelSeat
				for _, s := range seats {
					if !s.voted {
						open = append(open, s)
					}
				}
				if len(open) == 0 {
					return false
				}
				s := open[rng.IntN(len(open))]
				s.voted, s.vote = true, truth
				if rng.Float64() >= accuracy {
					s.vote = opposite(truth)
				}
				return true
			}
			var decision string
			if ph.Adaptive {
				for decision == "" {
					var st report.AdaptiveState
					for _, s := range seats {
						if s.voted {
							st.Ballots = append(st.Ballots, report.Ballot{Vote: s.vote, Reliability: s.rel})
						} else {
							st.Open = append(st.Open, s.rel)
						}
					}
					step := ph.Jury.Next(st, 5, report.OnTimeoutUndecided)
					switch {
					case step.Decision != "":
						decision = step.Decision
					case step.Draw > 0:
						draw(step.Draw)
					case !voteNext():
						decision = ph.Jury.Close(st.Ballots, report.OnTimeoutUndecided)
					}
				}
			} else {
				draw(ph.Size)
				var tally report.Tally
				for {
					if s, ok := tally.Decided(ph.Quorum); ok {
						decision = s
						break
					}
					if !voteNext() {
						decision = report.StatusUndecided
						break
					}
					tally = report.Tally{}
					for _, s := range seats {
						if s.voted {
							tally.Add(s.vote)
						}
					}
				}
			}
			answer := answerOfStatus(decision)
			if answer == truth {
				correct++
			}
			seatsTotal += len(seats)
			for _, s := range seats {
				if s.voted {
					recs[s.bot].Add(answer, s.vote)
				}
			}
		}
		n := float64(len(ph.Truths))
		out[pi] = modelFigures{Correct: float64(correct) / n, JurorsPerCase: float64(seatsTotal) / n}
	}
	return out
}

func opposite(vote string) string {
	if vote == report.VoteUphold {
		return report.VoteReject
	}
	return report.VoteUphold
}

func answerOfStatus(status string) string {
	switch status {
	case report.StatusUpheld:
		return report.VoteUphold
	case report.StatusRejected:
		return report.VoteReject
	}
	return ""
}

// modelRange runs the scenario runs times and returns, for each phase, the
// mean and the [lo, hi] quantiles of both figures over the runs.
type figureRange struct{ Mean, Lo, Hi float64 }

func modelRange(phases []modelPhase, bots int, accuracy float64, runs int, seed uint64, lo, hi float64) (correct, jurors []figureRange) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	per := make([][2][]float64, len(phases))
	for range runs {
		for i, f := range modelRun(phases, bots, accuracy, rng) {
			per[i][0] = append(per[i][0], f.Correct)
			per[i][1] = append(per[i][1], f.JurorsPerCase)
		}
	}
	q := func(xs []float64) figureRange {
		slices.Sort(xs)
		var sum float64
		for _, x := range xs {
			sum += x
		}
		at := func(p float64) float64 { return xs[min(len(xs)-1, int(p*float64(len(xs))))] }
		return figureRange{Mean: sum / float64(len(xs)), Lo: at(lo), Hi: at(hi)}
	}
	for _, p := range per {
		correct = append(correct, q(p[0]))
		jurors = append(jurors, q(p[1]))
	}
	return correct, jurors
}
