package domain

import (
	"errors"
	"math"
	"testing"
)

func TestAdaptiveJuryValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		a    AdaptiveJury
		ok   bool
	}{
		{"default", DefaultAdaptiveJury(), true},
		{"one juror", AdaptiveJury{1, 1, 0.9}, true},
		{"largest", AdaptiveJury{1, MaxJurySize, 0.999}, true},
		{"zero min", AdaptiveJury{0, 15, 0.95}, false},
		{"min above max", AdaptiveJury{7, 5, 0.95}, false},
		{"max above the cap", AdaptiveJury{3, MaxJurySize + 1, 0.95}, false},
		{"confidence of a coin", AdaptiveJury{3, 15, 0.5}, false},
		{"certainty", AdaptiveJury{3, 15, 1}, false},
		{"not a number", AdaptiveJury{3, 15, math.NaN()}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.a.Validate()
			if c.ok != (err == nil) {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", c.a, err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("%v does not wrap ErrInvalidPolicy", err)
			}
		})
	}
}

var (
	newJuror  = NewJurorReliability
	goodJuror = Reliability{0.9, 0.9}
	// lazyUphold always votes uphold: always right when the answer is
	// uphold, almost never when it is reject.
	lazyUphold = Reliability{0.99, 0.05}
)

func ballots(r Reliability, votes ...string) []Ballot {
	out := make([]Ballot, len(votes))
	for i, v := range votes {
		out[i] = Ballot{Vote: v, Reliability: r}
	}
	return out
}

func repeat(r Reliability, n int) []Reliability {
	out := make([]Reliability, n)
	for i := range out {
		out[i] = r
	}
	return out
}

const (
	U = VoteUphold
	R = VoteReject
)

func TestAdaptiveRoundStartsWithMinJury(t *testing.T) {
	t.Parallel()
	if got := DefaultAdaptiveJury().Next(AdaptiveState{}, 5, OnTimeoutUndecided); got.Draw != 3 || got.Decision != "" {
		t.Fatalf("first step = %+v, want a draw of 3", got)
	}
}

func TestThreeNewJurorsAreToppedUpBeforeTheyVote(t *testing.T) {
	t.Parallel()
	// Three unanimous 70 % votes give 0.927 < 0.95: a fourth is needed anyway.
	got := DefaultAdaptiveJury().Next(AdaptiveState{Open: repeat(newJuror, 3)}, 5, OnTimeoutUndecided)
	if got.Draw != 1 {
		t.Fatalf("step = %+v, want a draw of 1", got)
	}
	// Three known good jurors could settle it alone: nobody more yet.
	if got := DefaultAdaptiveJury().Next(AdaptiveState{Open: repeat(goodJuror, 3)}, 5, OnTimeoutUndecided); got.Draw != 0 || got.Decision != "" {
		t.Fatalf("step = %+v, want to wait", got)
	}
}

func TestUnanimousGoodJurorsDecideAtThreeVotes(t *testing.T) {
	t.Parallel()
	got := DefaultAdaptiveJury().Next(AdaptiveState{Ballots: ballots(goodJuror, R, R, R)}, 5, OnTimeoutUndecided)
	if got.Decision != StatusRejected || !got.Confident || got.Confidence < 0.95 {
		t.Fatalf("step = %+v, want a confident rejection", got)
	}
}

func TestNoDecisionBeforeMinJuryVotes(t *testing.T) {
	t.Parallel()
	sure := Reliability{0.99, 0.99}
	got := DefaultAdaptiveJury().Next(AdaptiveState{Ballots: ballots(sure, U, U), Open: repeat(sure, 1)}, 5, OnTimeoutUndecided)
	if got.Decision != "" || got.Draw != 0 {
		t.Fatalf("step = %+v, want to wait for the third vote", got)
	}
}

func TestSplitVotesDrawTheFewestThatCouldReachTheConfidence(t *testing.T) {
	t.Parallel()
	// 3 uphold, 1 reject by new jurors: evidence 2 x 0.847; 0.95 needs 2.944,
	// so two more uphold votes (3.39) could reach it and one (2.54) could not.
	got := DefaultAdaptiveJury().Next(AdaptiveState{Ballots: ballots(newJuror, U, R, U, U)}, 5, OnTimeoutUndecided)
	if got.Draw != 2 || got.Decision != "" {
		t.Fatalf("step = %+v, want a draw of 2", got)
	}
	// One of them already seated: draw one.
	got = DefaultAdaptiveJury().Next(AdaptiveState{Ballots: ballots(newJuror, U, R, U, U), Open: repeat(newJuror, 1)}, 5, OnTimeoutUndecided)
	if got.Draw != 1 {
		t.Fatalf("step = %+v, want a draw of 1", got)
	}
}

func TestAtMaxJuryTheLeadingSideDecidesWithoutConfidence(t *testing.T) {
	t.Parallel()
	votes := ballots(newJuror, U, R, U, R, U, R, U, R, U, R, U, R, U, R, U)
	got := DefaultAdaptiveJury().Next(AdaptiveState{Ballots: votes}, 5, OnTimeoutEscalate)
	if got.Decision != StatusUpheld || got.Confident || got.Draw != 0 {
		t.Fatalf("step = %+v, want upheld without confidence", got)
	}
}

func TestHopelessRoundsStopDrawing(t *testing.T) {
	t.Parallel()
	// 7 to 6 with two seats left: even two more agreeing votes cannot reach 0.95.
	votes := ballots(newJuror, U, R, U, R, U, R, U, R, U, R, U, R, U)
	got := DefaultAdaptiveJury().Next(AdaptiveState{Ballots: votes}, 5, OnTimeoutUndecided)
	if got.Decision != StatusUpheld || got.Confident || got.Draw != 0 {
		t.Fatalf("step = %+v, want a close by the leading side", got)
	}
	// While a seat is open, the round waits for it instead.
	got = DefaultAdaptiveJury().Next(AdaptiveState{Ballots: votes, Open: repeat(newJuror, 1)}, 5, OnTimeoutUndecided)
	if got.Decision != "" || got.Draw != 0 {
		t.Fatalf("step = %+v, want to wait for the open seat", got)
	}
}

func TestReleasedSeatsAreReplacedUpToMaxSubstitutes(t *testing.T) {
	t.Parallel()
	a := DefaultAdaptiveJury()
	got := a.Next(AdaptiveState{Ballots: ballots(newJuror, U, U), Released: 2}, 5, OnTimeoutUndecided)
	if got.Draw != 2 {
		t.Fatalf("step = %+v, want a draw of 2", got)
	}
	// Fifteen jurors drawn, eight of them released, five substitutes
	// allowed: three voting seats are all that remain of max_jury.
	got = a.Next(AdaptiveState{Ballots: ballots(newJuror, U, U), Open: repeat(newJuror, 5), Released: 8}, 5, OnTimeoutUndecided)
	if got.Draw != 0 {
		t.Fatalf("step = %+v, want no draw", got)
	}
	got = a.Next(AdaptiveState{Ballots: ballots(newJuror, U), Released: 19}, 5, OnTimeoutEscalate)
	if got.Decision != StatusEscalated {
		t.Fatalf("step = %+v, want escalated: one vote and no substitutes left", got)
	}
}

func TestLazyVotesCountForLittle(t *testing.T) {
	t.Parallel()
	if w := lazyUphold.Weight(U); w <= 0 || w > 0.1 {
		t.Fatalf("a lazy uphold vote weighs %v", w)
	}
	if w := goodJuror.Weight(U); math.Abs(w-math.Log(9)) > 1e-12 {
		t.Fatalf("a 90 %% juror's vote weighs %v, want ln 9", w)
	}
	if w := (Reliability{0.4, 0.5}).Weight(R); w != 0 {
		t.Fatalf("a juror worse than chance weighs %v, want 0", w)
	}
	// Two lazy upholds against one good reject: the evidence says reject.
	votes := append(ballots(lazyUphold, U, U), ballots(goodJuror, R)...)
	if s, _ := Leading(votes); s != StatusRejected {
		t.Fatalf("leading = %s, want rejected", s)
	}
}

func TestCloseBelowMinJuryFollowsOnTimeout(t *testing.T) {
	t.Parallel()
	a := DefaultAdaptiveJury()
	if s := a.Close(ballots(goodJuror, U, U), OnTimeoutUndecided); s != StatusUndecided {
		t.Fatalf("close with two votes = %s", s)
	}
	if s := a.Close(ballots(newJuror, U, R, U, R), OnTimeoutEscalate); s != StatusEscalated {
		t.Fatalf("close of a tie = %s", s)
	}
	if s := a.Close(ballots(newJuror, R, R, U), OnTimeoutEscalate); s != StatusRejected {
		t.Fatalf("close of 2-1 = %s", s)
	}
}
