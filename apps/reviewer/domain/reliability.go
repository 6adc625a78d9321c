package domain

// Reliability is a juror's estimated accuracy on each side, as the report
// service's adaptive jury weighs their vote: the probability that they vote
// uphold when the answer is uphold, and reject when it is reject.
type Reliability struct {
	Uphold float64 `json:"uphold"`
	Reject float64 `json:"reject"`
}

// Reliability is the estimate of a juror with record rec under prior p.
func (p AccuracyPrior) Reliability(rec AccuracyRecord) Reliability {
	u, r := p.Estimate(rec)
	return Reliability{Uphold: u, Reject: r}
}
