package domain

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestWilsonMatchesPublishedIntervals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		correct, n int
		lo, hi     float64
	}{
		{0, 10, 0, 0.2775},
		{5, 10, 0.2366, 0.7634},
		{8, 10, 0.4902, 0.9433},
		{1, 1, 0.2065, 1},
		{14, 20, 0.4810, 0.8545},
		{1, 8, 0.0224, 0.4709},
	}
	for _, c := range cases {
		lo, hi := Wilson(c.correct, c.n, Z95)
		if math.Abs(lo-c.lo) > 5e-4 || math.Abs(hi-c.hi) > 5e-4 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", c.correct, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestWilsonOfNothingIsEverything(t *testing.T) {
	t.Parallel()
	if lo, hi := Wilson(0, 0, Z95); lo != 0 || hi != 1 {
		t.Fatalf("Wilson(0, 0) = [%v, %v], want [0, 1]", lo, hi)
	}
}

func TestWilsonNarrowsAroundTheRateAsAnswersAccumulate(t *testing.T) {
	t.Parallel()
	prevWidth := 2.0
	for _, n := range []int{10, 100, 1000, 10000} {
		lo, hi := Wilson(7*n/10, n, Z95)
		if lo > 0.7 || hi < 0.7 {
			t.Fatalf("n=%d: [%v, %v] does not contain 0.7", n, lo, hi)
		}
		if hi-lo >= prevWidth {
			t.Fatalf("n=%d: width %v did not shrink from %v", n, hi-lo, prevWidth)
		}
		prevWidth = hi - lo
	}
}

func record(upAnswered, upCorrect, rejAnswered, rejCorrect int) AccuracyRecord {
	return AccuracyRecord{Uphold: Side{upAnswered, upCorrect}, Reject: Side{rejAnswered, rejCorrect}}
}

func TestAccuracyRuleSuspendsAJurorWhoGivesTheSameAnswerToEverything(t *testing.T) {
	t.Parallel()
	r := DefaultAccuracyRule()
	suspend, reason := r.Verdict(record(r.MinGold, r.MinGold, r.MinGold, 0))
	if !suspend {
		t.Fatal("a juror always answering uphold was not suspended")
	}
	if !strings.Contains(reason, "reject") {
		t.Fatalf("reason %q does not name the side", reason)
	}
	if suspend, _ := r.Verdict(record(0, 0, r.MinGold, r.MinGold)); suspend {
		t.Fatal("a juror right on every case was suspended")
	}
}

func TestAccuracyRuleNeverSuspendsOnFewAnswers(t *testing.T) {
	t.Parallel()
	r := DefaultAccuracyRule()
	for n := 0; n < r.MinGold; n++ {
		if suspend, _ := r.Verdict(record(50, 50, n, 0)); suspend {
			t.Fatalf("suspended after %d wrong answers, below min_gold %d", n, r.MinGold)
		}
	}
	// Nor before the other side shows the same answer given there too.
	if suspend, _ := r.Verdict(record((r.MinGold-1)/2, (r.MinGold-1)/2, 50, 0)); suspend {
		t.Fatal("suspended with too few answers on the other side")
	}
}

func TestAccuracyRuleNeverSuspendsOnOneMistake(t *testing.T) {
	t.Parallel()
	r := DefaultAccuracyRule()
	for n := 1; n <= 200; n++ {
		if suspend, reason := r.Verdict(record(n, n-1, n, n-1)); suspend {
			t.Fatalf("suspended for one mistake in %d: %s", n, reason)
		}
	}
}

func TestAccuracyRuleSparesPoorButReadingJurors(t *testing.T) {
	t.Parallel()
	r := DefaultAccuracyRule()
	for n := 12; n <= 300; n += 3 {
		// Right a third of the time on each side.
		if suspend, reason := r.Verdict(record(n, n/3, n, n/3)); suspend {
			t.Fatalf("a juror right %d of %d times was suspended: %s", n/3, n, reason)
		}
		// Poor on one side, good but not perfect on the other.
		if suspend, reason := r.Verdict(record(n, n*4/5, n, n/10)); suspend {
			t.Fatalf("a juror right %d and %d of %d times was suspended: %s", n*4/5, n/10, n, reason)
		}
	}
}

func TestNewAccuracyRuleValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		minGold int
		minAcc  float64
		ok      bool
	}{
		{"defaults", 8, 0.02, true},
		{"zero bar", 5, 0, true},
		{"one answer", 1, 0.02, false},
		{"too many", MaxMinGold + 1, 0.02, false},
		{"bar of a coin", 8, 0.5, false},
		{"negative bar", 8, -0.1, false},
		{"not a number", 8, math.NaN(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewAccuracyRule(c.minGold, c.minAcc)
			if c.ok != (err == nil) {
				t.Fatalf("NewAccuracyRule(%d, %v) = %v, want ok=%v", c.minGold, c.minAcc, err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("%v does not match ErrInvalidArgument", err)
			}
		})
	}
}

func TestAccuracyRecordCountsEachSideApart(t *testing.T) {
	t.Parallel()
	var r AccuracyRecord
	r.Add(VoteUphold, VoteUphold)
	r.Add(VoteUphold, VoteReject)
	r.Add(VoteReject, VoteReject)
	r.Add("undecided", VoteReject)
	r.Add(VoteReject, "")
	if want := record(2, 1, 1, 1); r != want {
		t.Fatalf("record = %+v, want %+v", r, want)
	}
	if up, rej := r.Votes(); up != 1 || rej != 2 {
		t.Fatalf("votes = %d uphold, %d reject; want 1, 2", up, rej)
	}
	if m := r.Merge(r); m != record(4, 2, 2, 2) {
		t.Fatalf("merge = %+v", m)
	}
}

func TestEstimateStartsAtThePriorMeanAndFollowsTheRecord(t *testing.T) {
	t.Parallel()
	p := DefaultAccuracyPrior()
	up, rej := p.Estimate(AccuracyRecord{})
	if up != 0.7 || rej != 0.7 {
		t.Fatalf("a new juror's estimate = %v, %v; want 0.7, 0.7", up, rej)
	}
	up, rej = p.Estimate(record(90, 90, 90, 0))
	if up < 0.95 || rej > 0.1 {
		t.Fatalf("a lazy uphold voter's estimate = %v, %v", up, rej)
	}
}

func TestGoldIsOfferedAtTheRateAfterProbation(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	m := DefaultGoldMix(0.05)
	share := func(gold AccuracyRecord) float64 {
		const n = 100_000
		offered := 0
		for range n {
			if g, _ := m.Next(gold, AccuracyRecord{}, rng); g {
				offered++
			}
		}
		return float64(offered) / n
	}
	if s := share(record(m.Probation/2, 0, m.Probation/2, 0)); math.Abs(s-0.05) > 0.005 {
		t.Fatalf("gold share after probation %.4f, want 0.05", s)
	}
	if s := share(AccuracyRecord{}); math.Abs(s-m.ProbationRate) > 0.01 {
		t.Fatalf("gold share in probation %.4f, want %v", s, m.ProbationRate)
	}
	if g, _ := (GoldMix{}).Next(AccuracyRecord{}, AccuracyRecord{}, rng); g {
		t.Fatal("gold offered at rate 0")
	}
}

func TestGoldTestsTheAnswerAJurorGivesLeast(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	m := GoldMix{Rate: 1}
	alwaysUphold := record(6, 6, 5, 0)
	for range 100 {
		if g, answer := m.Next(AccuracyRecord{}, alwaysUphold, rng); !g || answer != VoteReject {
			t.Fatalf("gold %v answer %q for an always-uphold juror, want reject", g, answer)
		}
	}
	seen := map[string]int{}
	for range 1000 {
		_, answer := m.Next(AccuracyRecord{}, record(5, 4, 5, 4), rng)
		seen[answer]++
	}
	if seen[VoteUphold] < 400 || seen[VoteReject] < 400 {
		t.Fatalf("a balanced juror saw gold answers %v, want both about equally", seen)
	}
}

func TestGoldRateValidation(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.05, MaxGoldRate} {
		if err := ValidateGoldRate(r); err != nil {
			t.Errorf("ValidateGoldRate(%v) = %v", r, err)
		}
	}
	for _, r := range []float64{-0.01, MaxGoldRate + 0.01, math.NaN()} {
		if err := ValidateGoldRate(r); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ValidateGoldRate(%v) = %v, want invalid", r, err)
		}
	}
}
