package domain

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Z95 is the two-sided 95 % quantile of the normal distribution, the z of
// every Wilson interval here.
const Z95 = 1.959963984540054

// Wilson is the Wilson score interval of a proportion: correct successes in
// n trials at normal quantile z. Unlike the plain p ± z·σ interval it stays
// inside [0, 1] and is honest about small samples (0 of 3 is not "certainly
// 0 %"), which is why suspension rules built on it never fire on one mistake.
// With no trials it is the whole of [0, 1].
func Wilson(correct, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	correct = min(max(correct, 0), n)
	nf := float64(n)
	p := float64(correct) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return max(0, center-half), min(1, center+half)
}

// Side counts a juror's measured answers on the cases whose answer was one
// side: gold cases with that known answer, and decided cases with that
// decision (where the vote agreeing with the decision counts as correct).
type Side struct {
	Answered int
	Correct  int
}

// Accuracy is correct over answered; nil before any answer.
func (s Side) Accuracy() *float64 {
	if s.Answered == 0 {
		return nil
	}
	a := float64(s.Correct) / float64(s.Answered)
	return &a
}

// AccuracyRecord is what the platform measures of a juror's judgement, kept
// per side because a juror who always gives the same answer is right on one
// side every time and wrong on the other every time: the overall accuracy
// (about the share of the answer they always give) hides them, the worse
// side shows them. A juror who reads the cases is about as good on both.
type AccuracyRecord struct {
	Uphold Side // cases whose answer (gold) or decision was uphold
	Reject Side // cases whose answer (gold) or decision was reject
}

// Add counts one answer: vote given on a case whose answer, or decision, was
// answer (VoteUphold or VoteReject). Anything else is ignored, so undecided
// and escalated cases never count.
func (r *AccuracyRecord) Add(answer, vote string) {
	var s *Side
	switch answer {
	case VoteUphold:
		s = &r.Uphold
	case VoteReject:
		s = &r.Reject
	default:
		return
	}
	if vote != VoteUphold && vote != VoteReject {
		return
	}
	s.Answered++
	if vote == answer {
		s.Correct++
	}
}

// Merge adds o's counts to r (gold answers and agreement are measured apart
// and judged together).
func (r AccuracyRecord) Merge(o AccuracyRecord) AccuracyRecord {
	return AccuracyRecord{
		Uphold: Side{r.Uphold.Answered + o.Uphold.Answered, r.Uphold.Correct + o.Uphold.Correct},
		Reject: Side{r.Reject.Answered + o.Reject.Answered, r.Reject.Correct + o.Reject.Correct},
	}
}

// Votes counts the juror's own votes for each side.
func (r AccuracyRecord) Votes() (uphold, reject int) {
	uphold = r.Uphold.Correct + r.Reject.Answered - r.Reject.Correct
	reject = r.Reject.Correct + r.Uphold.Answered - r.Uphold.Correct
	return uphold, reject
}

// Bounds of the accuracy rule.
const (
	MaxMinGold = 1000
)

// AccuracyRule is the gold rule of issue 12: a juror is suspended when, on
// either side with at least MinGold measured answers, the Wilson lower bound
// (95 %) of their accuracy on that side is below MinGoldAccuracy. The live
// settings are min_gold and min_gold_accuracy.
//
// The lower bound asks "can we say, at 95 %, that this juror is right on this
// side at least MinGoldAccuracy of the time?". With a low bar that question
// separates a juror who is never right on one side (a lazy voter: the bound
// stays at 0 however long they go on) from every juror who reads the cases,
// even a poor one, whose bound rises towards their accuracy as answers come in.
// A higher bar would suspend honest jurors who merely started unluckily,
// because the lower bound of a short record is low whatever the accuracy.
type AccuracyRule struct {
	MinGold         int
	MinGoldAccuracy float64
}

// DefaultAccuracyRule applies until an operator sets one. See
// docs/SIMULATOR.md for the runs that chose these numbers.
func DefaultAccuracyRule() AccuracyRule {
	return AccuracyRule{MinGold: 8, MinGoldAccuracy: 0.02}
}

// NewAccuracyRule validates operator-supplied settings.
func NewAccuracyRule(minGold int, minGoldAccuracy float64) (AccuracyRule, error) {
	switch {
	case minGold < 2 || minGold > MaxMinGold:
		// One answer must never suspend anyone.
		return AccuracyRule{}, invalid("min_gold must be between 2 and %d", MaxMinGold)
	case !(minGoldAccuracy >= 0 && minGoldAccuracy < 1):
		return AccuracyRule{}, invalid("min_gold_accuracy must be at least 0 and below 1")
	}
	return AccuracyRule{MinGold: minGold, MinGoldAccuracy: minGoldAccuracy}, nil
}

// Verdict says whether to suspend a juror with record rec, and why.
func (r AccuracyRule) Verdict(rec AccuracyRecord) (suspend bool, reason string) {
	for _, s := range []struct {
		name string
		side Side
	}{{VoteUphold, rec.Uphold}, {VoteReject, rec.Reject}} {
		if s.side.Answered < r.MinGold {
			continue
		}
		if lo, _ := Wilson(s.side.Correct, s.side.Answered, Z95); lo < r.MinGoldAccuracy {
			return true, fmt.Sprintf("right on %d of %d cases whose answer was %s (95%% lower bound %.1f%%, below %.1f%%)",
				s.side.Correct, s.side.Answered, s.name, lo*100, r.MinGoldAccuracy*100)
		}
	}
	return false, ""
}

// AccuracyPrior is the Beta prior of a juror's accuracy on each side before
// any answer is measured: Correct and Wrong pseudo-answers.
type AccuracyPrior struct {
	Correct float64
	Wrong   float64
}

// DefaultAccuracyPrior is Beta(7,3): a new juror is taken to be right 70 % of
// the time, the mean of the population the platform is built for, with the
// weight of ten answers, so that a few lucky or unlucky answers move the
// estimate only a little and twenty measured answers outweigh the prior.
func DefaultAccuracyPrior() AccuracyPrior { return AccuracyPrior{Correct: 7, Wrong: 3} }

// Estimate is the posterior mean of the juror's accuracy on each side: the
// probability that they vote uphold when the answer is uphold, and reject
// when it is reject.
func (p AccuracyPrior) Estimate(rec AccuracyRecord) (uphold, reject float64) {
	est := func(s Side) float64 {
		return (p.Correct + float64(s.Correct)) / (p.Correct + p.Wrong + float64(s.Answered))
	}
	return est(rec.Uphold), est(rec.Reject)
}

// MaxGoldRate bounds gold_rate: beyond one task in two, jurors mostly answer
// questions whose answers are known.
const MaxGoldRate = 0.5

// DefaultGoldRate is gold_rate until an operator sets it.
const DefaultGoldRate = 0.05

// ValidateGoldRate checks the live setting gold_rate.
func ValidateGoldRate(rate float64) error {
	if !(rate >= 0 && rate <= MaxGoldRate) {
		return invalid("gold_rate must be between 0 and %g", MaxGoldRate)
	}
	return nil
}

// NextGold decides whether the next task offered to a juror with record rec
// is a gold case, at rate, and if so which answer the gold case should have.
// The answer is the side the juror has voted for less often (either, at
// random, when even): a juror who always answers uphold is tested with
// cases whose answer is reject, so a lazy voter's worse side fills up at
// once, while a juror who reads the cases sees both answers about equally.
func NextGold(rate float64, rec AccuracyRecord, rng *rand.Rand) (gold bool, answer string) {
	if rate <= 0 || rng.Float64() >= rate {
		return false, ""
	}
	up, rej := rec.Votes()
	switch {
	case up > rej:
		return true, VoteReject
	case rej > up:
		return true, VoteUphold
	case rng.IntN(2) == 0:
		return true, VoteUphold
	}
	return true, VoteReject
}
