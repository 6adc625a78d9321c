package domain

import (
	"fmt"
	"math"
)

// Jury modes of a policy: classic (jury_size and quorum, the default) or
// adaptive (min_jury, max_jury and confidence).
const (
	ModeClassic  = "classic"
	ModeAdaptive = "adaptive"
)

// AdaptiveJury is the adaptive part of a policy: a round seats MinJury
// jurors, and more while the votes in hand (and those still to come from
// jurors already seated) could not yet make the decision Confidence sure,
// never more than MaxJury voting seats.
type AdaptiveJury struct {
	MinJury    int     `json:"min_jury"`
	MaxJury    int     `json:"max_jury"`
	Confidence float64 `json:"confidence"`
}

// DefaultAdaptiveJury is the adaptive policy the simulator was tuned for
// (docs/SIMULATOR.md): three votes can settle an easy case when the jurors
// are known to be good; fifteen bound the cost of a hard one; 0.95 is the
// accuracy the platform promises.
func DefaultAdaptiveJury() AdaptiveJury {
	return AdaptiveJury{MinJury: 3, MaxJury: 15, Confidence: 0.95}
}

// Validate checks 1 <= min_jury <= max_jury <= MaxJurySize and
// 0.5 < confidence < 1 (a confidence of 1 could never be reached).
func (a AdaptiveJury) Validate() error {
	switch {
	case a.MinJury < 1 || a.MinJury > a.MaxJury || a.MaxJury > MaxJurySize:
		return invalidPolicy("min_jury and max_jury must satisfy 1 <= min_jury <= max_jury <= %d", MaxJurySize)
	case !(a.Confidence > 0.5 && a.Confidence < 1):
		return invalidPolicy("confidence must be above 0.5 and below 1")
	}
	return nil
}

func invalidPolicy(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidPolicy, fmt.Sprintf(format, a...))
}

// Appeal is the adaptive policy of an appeal round: a larger jury, as
// DefaultAppealJurySize is for the classic mode, at the same confidence.
func (a AdaptiveJury) Appeal() AdaptiveJury {
	return AdaptiveJury{MinJury: DefaultAppealJurySize(a.MinJury), MaxJury: DefaultAppealJurySize(a.MaxJury), Confidence: a.Confidence}
}

// Reliability is a juror's estimated accuracy on each side: the probability
// that they vote uphold when the right answer is uphold, and reject when it
// is reject. The reviewer service measures it from gold answers and past
// agreement, shrunk towards NewJurorReliability for jurors it knows little.
type Reliability struct {
	Uphold float64 `json:"uphold"`
	Reject float64 `json:"reject"`
}

// NewJurorReliability is the estimate of a juror with no measured answers,
// the mean of the reviewer service's Beta(7,3) prior.
var NewJurorReliability = Reliability{Uphold: 0.7, Reject: 0.7}

// Estimates are kept inside these bounds so that no single juror, however
// good their record, is taken to be infallible.
const (
	minReliability = 0.01
	maxReliability = 0.99
)

func clampReliability(p float64) float64 {
	if math.IsNaN(p) {
		return 0.5
	}
	return min(max(p, minReliability), maxReliability)
}

// Weight is the log-likelihood ratio of "uphold is right" over "reject is
// right" that this juror's vote adds: positive for an uphold vote, negative
// for a reject one, larger for a more reliable juror. A juror measured no
// better than chance (Uphold+Reject <= 1) adds nothing: their votes are
// never read backwards.
func (r Reliability) Weight(vote string) float64 {
	u, j := clampReliability(r.Uphold), clampReliability(r.Reject)
	if u+j <= 1 {
		return 0
	}
	switch vote {
	case VoteUphold:
		return math.Log(u / (1 - j))
	case VoteReject:
		return -math.Log(j / (1 - u))
	}
	return 0
}

// Ballot is one vote with the voter's reliability as estimated when they
// were drawn.
type Ballot struct {
	Vote        string
	Reliability Reliability
}

// Evidence is the log-likelihood ratio of the ballots, uphold over reject:
// the votes are taken as independent given the right answer.
func Evidence(ballots []Ballot) float64 {
	var l float64
	for _, b := range ballots {
		l += b.Reliability.Weight(b.Vote)
	}
	return l
}

// Leading is the side the evidence favours (StatusUpheld or StatusRejected;
// "" when it favours neither) and the posterior probability that this side
// is right, under a uniform prior on the right answer.
func Leading(ballots []Ballot) (status string, posterior float64) {
	l := Evidence(ballots)
	switch {
	case l > 0:
		return StatusUpheld, logistic(l)
	case l < 0:
		return StatusRejected, logistic(-l)
	}
	return "", 0.5
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// AdaptiveState is what the sequential test needs of a round.
type AdaptiveState struct {
	Ballots []Ballot
	// Open holds the reliability of every seated juror who has neither
	// voted nor been released.
	Open []Reliability
	// Released counts seats released because the juror did not answer.
	Released int
}

// AdaptiveStep is what a round does next.
type AdaptiveStep struct {
	// Decision is the closing status once the round is over, else "".
	Decision string
	// Confident says the decision reached the policy's confidence; false
	// for a round closed by Close because the confidence was out of reach.
	Confident bool
	// Confidence is the posterior that the leading side is right.
	Confidence float64
	// Draw is how many more jurors to seat now.
	Draw int
}

// tolerance absorbs rounding in sums of logarithms, so that votes which
// reach the confidence exactly on paper do so in floating point too.
const tolerance = 1e-9

// Next is the sequential test. A round starts by seating MinJury jurors.
// It decides as soon as it holds at least MinJury votes and the posterior of
// the leading side reaches Confidence. Otherwise it seats the fewest new
// jurors that could still get there: it assumes every open seat and every new juror votes for the
// leading side, open seats with their own reliability and new jurors with
// NewJurorReliability, and seats at least MinJury in all. Voting seats never
// exceed MaxJury; released seats are replaced up to maxSubstitutes. When
// even that could not reach the confidence, it seats no one more and, once
// the open seats have answered, closes by Close.
func (a AdaptiveJury) Next(s AdaptiveState, maxSubstitutes int, onTimeout string) AdaptiveStep {
	l := Evidence(s.Ballots)
	status, posterior := Leading(s.Ballots)
	target := logit(a.Confidence)
	votes := len(s.Ballots)
	if votes >= a.MinJury && math.Abs(l) >= target-tolerance {
		return AdaptiveStep{Decision: status, Confident: true, Confidence: posterior}
	}
	side := VoteUphold
	if l < 0 || l == 0 && a.potential(s.Open, VoteReject) > a.potential(s.Open, VoteUphold) {
		side = VoteReject
	}
	gap := target - math.Abs(l) - a.potential(s.Open, side)
	seated := votes + len(s.Open)
	need := 0
	if seated+s.Released == 0 {
		// The first draw: who will be seated, and how reliable they are,
		// is not known yet; the next step tops up once it is.
		need = a.MinJury
	} else if gap > tolerance {
		need = int(math.Ceil((gap - tolerance) / math.Abs(NewJurorReliability.Weight(side))))
	}
	need = max(need, a.MinJury-seated)
	room := max(0, min(a.MaxJury-seated, a.MaxJury+max(maxSubstitutes, 0)-seated-s.Released))
	if need <= room && need > 0 {
		return AdaptiveStep{Confidence: posterior, Draw: need}
	}
	if len(s.Open) > 0 {
		return AdaptiveStep{Confidence: posterior}
	}
	return AdaptiveStep{Decision: a.Close(s.Ballots, onTimeout), Confidence: posterior}
}

// potential is the evidence towards side that the open seats would add if
// every one of them voted for it.
func (a AdaptiveJury) potential(open []Reliability, side string) float64 {
	var p float64
	for _, r := range open {
		p += math.Abs(r.Weight(side))
	}
	return p
}

// Close ends a round that cannot, or can no longer, reach the confidence:
// at max_jury, at the deadline, or out of substitutes. With at least MinJury
// votes the leading side decides, because the jury has said all the policy
// lets it say and a lean of the evidence is still better than no decision;
// with fewer votes, or evidence that favours neither side, the round ends as
// on_timeout says.
func (a AdaptiveJury) Close(ballots []Ballot, onTimeout string) string {
	if status, _ := Leading(ballots); status != "" && len(ballots) >= a.MinJury {
		return status
	}
	if onTimeout == OnTimeoutEscalate {
		return StatusEscalated
	}
	return StatusUndecided
}
