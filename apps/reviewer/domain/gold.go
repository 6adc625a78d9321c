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

// AccuracyRule is the gold rule of issue 12, with the live settings
// min_gold and min_gold_accuracy. A juror is suspended when their answers
// do not depend on the case: on one side, with at least MinGold measured
// answers, the Wilson lower bound (95 %) of their accuracy is below
// MinGoldAccuracy (they are practically never right there), while on the
// other side, with at least half as many answers, the Wilson upper bound is
// at least 1-MinGoldAccuracy (they could be always right there): the
// signature of a juror who gives the same answer to everything.
//
// Why lower bounds and a low bar: the lower bound asks "can we say, at 95 %,
// that this juror is right on this side at least MinGoldAccuracy of the
// time?". With a low bar, a lazy voter's bound stays at 0 however long they
// go on, while a juror who reads the cases, even a poor one, has a bound that
// rises towards their accuracy as answers come in. A higher bar, or the
// overall accuracy instead of the worse side, would suspend honest jurors who
// merely started unluckily (the lower bound of a short record is low whatever
// the accuracy) and could never catch a lazy voter, who is right about as
// often as the answer they always give is. The other side's condition spares
// the juror who is merely poor on both sides: the sequential test already
// gives such a juror no weight (see report domain Reliability.Weight).
type AccuracyRule struct {
	MinGold         int
	MinGoldAccuracy float64
}

// DefaultAccuracyRule applies until an operator sets one. See
// docs/SIMULATOR.md for the runs that chose these numbers.
func DefaultAccuracyRule() AccuracyRule {
	return AccuracyRule{MinGold: 7, MinGoldAccuracy: 0.02}
}

// NewAccuracyRule validates operator-supplied settings.
func NewAccuracyRule(minGold int, minGoldAccuracy float64) (AccuracyRule, error) {
	switch {
	case minGold < 2 || minGold > MaxMinGold:
		// One answer must never suspend anyone.
		return AccuracyRule{}, invalid("min_gold must be between 2 and %d", MaxMinGold)
	case !(minGoldAccuracy >= 0 && minGoldAccuracy < 0.5):
		return AccuracyRule{}, invalid("min_gold_accuracy must be at least 0 and below 0.5")
	}
	return AccuracyRule{MinGold: minGold, MinGoldAccuracy: minGoldAccuracy}, nil
}

// Verdict says whether to suspend a juror with record rec, and why.
func (r AccuracyRule) Verdict(rec AccuracyRecord) (suspend bool, reason string) {
	for _, s := range []struct {
		name, otherName string
		side, other     Side
	}{{VoteUphold, VoteReject, rec.Uphold, rec.Reject}, {VoteReject, VoteUphold, rec.Reject, rec.Uphold}} {
		if s.side.Answered < r.MinGold || 2*s.other.Answered < r.MinGold {
			continue
		}
		lo, _ := Wilson(s.side.Correct, s.side.Answered, Z95)
		_, hi := Wilson(s.other.Correct, s.other.Answered, Z95)
		if lo < r.MinGoldAccuracy && hi >= 1-r.MinGoldAccuracy {
			return true, fmt.Sprintf("gives the same answer whatever the case: right on %d of %d cases whose answer was %s and on %d of %d whose answer was %s",
				s.side.Correct, s.side.Answered, s.name, s.other.Correct, s.other.Answered, s.otherName)
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

// GoldMix is how gold cases are mixed into a juror's tasks: at Rate, and at
// ProbationRate (when higher) until the juror has answered Probation gold
// cases. A new juror is unknown and every vote they cast counts, so they
// are measured first; a known juror is checked now and then. Gold tasks
// look like any other, so a juror cannot tell the probation from the rest.
type GoldMix struct {
	Rate          float64
	Probation     int
	ProbationRate float64
}

// DefaultGoldMix uses gold_rate and a probation of ten gold answers at two
// tasks in five, which is what lets a lazy voter be caught within about
// twenty tasks (docs/SIMULATOR.md).
func DefaultGoldMix(rate float64) GoldMix {
	return GoldMix{Rate: rate, Probation: 10, ProbationRate: 0.4}
}

// Next decides whether the next task offered to a juror is a gold case and
// if so which answer it should have. gold is the juror's record on gold
// cases, agreement their record on decided cases. The answer is the
// opposite of one of the juror's decided votes picked at random (either
// answer, at random, before any): a juror who always votes uphold is always
// tested with cases whose answer is reject, so a lazy voter's worse side
// fills up at once, while a juror who reads the cases sees both answers in
// about the proportions of the cases they get. Gold answers themselves are
// left out of the choice, so that a juror's unlucky gold answers do not
// steer more gold to the same side.
func (m GoldMix) Next(gold, agreement AccuracyRecord, rng *rand.Rand) (offer bool, answer string) {
	rate := m.Rate
	if gold.Uphold.Answered+gold.Reject.Answered < m.Probation {
		rate = max(rate, m.ProbationRate)
	}
	if rate <= 0 || rng.Float64() >= rate {
		return false, ""
	}
	up, rej := agreement.Votes()
	if up+rej == 0 {
		up, rej = 1, 1
	}
	if rng.IntN(up+rej) < up {
		return true, VoteReject
	}
	return true, VoteUphold
}
