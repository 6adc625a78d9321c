package domain

import (
	"slices"

	"github.com/govern/kit/text"
)

// GoldCase is a case with a known answer, as the report service describes
// it: what a juror's gold task shows (target and reason, like any task) and
// the answer their vote is judged against.
type GoldCase struct {
	CaseID string
	Target Target
	Reason string
	Answer string
}

// Validate checks a gold case from the report service.
func (g GoldCase) Validate() error {
	for _, err := range []error{
		text.ID("case_id", g.CaseID),
		text.ID("target.id", g.Target.ID),
		text.ID("target.owner_id", g.Target.OwnerID),
		text.Free("reason", g.Reason, text.MaxTextLen, true),
	} {
		if err != nil {
			return checked(err)
		}
	}
	if !slices.Contains(TargetKinds, g.Target.Kind) {
		return invalid("target.kind must be one of %v", TargetKinds)
	}
	return ValidateAnswer("answer", g.Answer)
}

// ValidateAnswer checks a gold answer or a vote on a gold case.
func ValidateAnswer(field, v string) error {
	if v != VoteUphold && v != VoteReject {
		return invalid("%s must be %q or %q", field, VoteUphold, VoteReject)
	}
	return nil
}

// GoldOn is the answer a gold task should have when GoldMix.Next asked for
// want: want when an unseen gold case with that answer exists, else the
// other answer when one exists (a juror is better measured on the wrong side
// than not at all); "" when the juror has seen every gold case.
func GoldOn(want string, unseenUphold, unseenReject bool) string {
	has := map[string]bool{VoteUphold: unseenUphold, VoteReject: unseenReject}
	if has[want] {
		return want
	}
	for _, a := range []string{VoteUphold, VoteReject} {
		if has[a] {
			return a
		}
	}
	return ""
}
