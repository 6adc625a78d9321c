package domain

import (
	"fmt"
)

// GoldCase is a case whose answer is known (issue 12 §3): an operator
// writes it like a report, with the answer a careful juror gives, and the
// reviewer service mixes it into jurors' inboxes to measure their accuracy.
// A juror sees it as any other case; it never reaches the marketplace.
type GoldCase struct {
	Target   Target   `json:"target"`
	Reason   string   `json:"reason"`
	Evidence []string `json:"evidence,omitempty"`
	// Answer is the vote a careful juror casts: VoteUphold or VoteReject.
	Answer string `json:"answer"`
}

// Validate checks a gold case as the report author would have filed it:
// target, reason and evidence under the rules of every report (kit/text),
// and an answer that is a vote.
func (g GoldCase) Validate(author string) error {
	r := Report{ReporterID: author, Target: g.Target, Reason: g.Reason, Evidence: g.Evidence}
	if err := r.Validate(); err != nil {
		return err
	}
	if g.Answer != VoteUphold && g.Answer != VoteReject {
		return fmt.Errorf("%w: answer must be %q or %q", ErrInvalidReport, VoteUphold, VoteReject)
	}
	return nil
}

// DecisionFor is the decision a gold case's answer stands for: what a
// juror's vote on it is judged (and rewarded) against.
func DecisionFor(answer string) string {
	if answer == VoteUphold {
		return StatusUpheld
	}
	return StatusRejected
}
