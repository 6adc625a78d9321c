package main

import (
	"math"
	"math/rand/v2"
	"slices"

	reviewer "github.com/govern/reviewer/domain"
)

// Scenario is a synthetic population of jurors and a stream of reports.
type Scenario struct {
	Name string
	// Accuracy draws an honest juror's accuracy (the same on both sides).
	Accuracy func(rng *rand.Rand) float64
	// LazyShare of jurors always give the same answer (half uphold, half
	// reject), whatever the case.
	LazyShare float64
	// ColludeShare of jurors are one group protecting friends: on a case
	// against a friend's content they all vote reject, otherwise they vote
	// as honest jurors. FriendShare of cases target a friend.
	ColludeShare float64
	FriendShare  float64
	// NoShow is the chance a drawn juror never answers.
	NoShow float64
	// UpheldShare of reports deserve to be upheld.
	UpheldShare float64
	// LatencyMedian (hours) and LatencySigma describe the lognormal time
	// from draw to vote of a juror who answers.
	LatencyMedian float64
	LatencySigma  float64
}

// Scenarios are the populations the table reports, by name.
var Scenarios = []Scenario{
	{
		Name: "mixed", Accuracy: func(rng *rand.Rand) float64 { return betaInt(rng, 7, 3) },
		LazyShare: 0.05, NoShow: 0.05, UpheldShare: 0.6, LatencyMedian: 1, LatencySigma: 1,
	},
	{
		// The control: every juror exactly 70 % accurate, nobody lazy.
		Name: "uniform70", Accuracy: func(*rand.Rand) float64 { return 0.7 },
		NoShow: 0.05, UpheldShare: 0.6, LatencyMedian: 1, LatencySigma: 1,
	},
	{
		Name: "collusion", Accuracy: func(rng *rand.Rand) float64 { return betaInt(rng, 7, 3) },
		LazyShare: 0.05, ColludeShare: 0.10, FriendShare: 0.10, NoShow: 0.05, UpheldShare: 0.6,
		LatencyMedian: 1, LatencySigma: 1,
	},
}

// betaInt draws from Beta(a, b) for whole a and b: the a-th smallest of
// a+b-1 uniform numbers.
func betaInt(rng *rand.Rand, a, b int) float64 {
	u := make([]float64, a+b-1)
	for i := range u {
		u[i] = rng.Float64()
	}
	slices.Sort(u)
	return u[a-1]
}

type kind int

const (
	honest kind = iota
	lazy
	colluder
)

// juror is one synthetic juror: the truth about them (kind, accuracy) is
// the simulator's; the platform sees only the records.
type juror struct {
	id       int
	kind     kind
	accuracy float64
	lazyVote string

	open      int
	tasks     int // every task offered, gold included
	realTasks int
	suspended bool
	suspendAt int // tasks offered when suspended
	gold      reviewer.AccuracyRecord
	agreement reviewer.AccuracyRecord
}

func newPopulation(s Scenario, n int, rng *rand.Rand) []*juror {
	out := make([]*juror, n)
	nLazy := int(math.Round(s.LazyShare * float64(n)))
	nCollude := int(math.Round(s.ColludeShare * float64(n)))
	for i := range out {
		j := &juror{id: i, kind: honest, accuracy: s.Accuracy(rng)}
		switch {
		case i < nLazy:
			j.kind = lazy
			j.lazyVote = reviewer.VoteUphold
			if i%2 == 1 {
				j.lazyVote = reviewer.VoteReject
			}
		case i < nLazy+nCollude:
			j.kind = colluder
		}
		out[i] = j
	}
	// Shuffle so that the kinds are not clustered by id.
	rng.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	for i, j := range out {
		j.id = i
	}
	return out
}

// vote is how the juror answers a case whose right answer is truth.
func (j *juror) vote(truth string, friend bool, rng *rand.Rand) string {
	switch {
	case j.kind == lazy:
		return j.lazyVote
	case j.kind == colluder && friend:
		return reviewer.VoteReject
	case rng.Float64() < j.accuracy:
		return truth
	case truth == reviewer.VoteUphold:
		return reviewer.VoteReject
	}
	return reviewer.VoteUphold
}

// record is everything the platform has measured of the juror.
func (j *juror) record() reviewer.AccuracyRecord { return j.gold.Merge(j.agreement) }

// forget takes back an agreement counted against a decision that an appeal
// replaced.
func forget(r *reviewer.AccuracyRecord, answer, vote string) {
	s := &r.Uphold
	if answer == reviewer.VoteReject {
		s = &r.Reject
	}
	s.Answered--
	if vote == answer {
		s.Correct--
	}
}

// gini is the Gini coefficient of loads: 0 when everyone carries the same.
func gini(loads []int) float64 {
	if len(loads) == 0 {
		return 0
	}
	s := slices.Clone(loads)
	slices.Sort(s)
	var cum, total float64
	for i, v := range s {
		cum += float64(i+1) * float64(v)
		total += float64(v)
	}
	if total == 0 {
		return 0
	}
	n := float64(len(s))
	return (2*cum)/(n*total) - (n+1)/n
}
