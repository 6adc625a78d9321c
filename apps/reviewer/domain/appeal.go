package domain

// MaxRound is the last round a case can have: its appeal's.
const MaxRound = 2

// ParseRound reads a case-decided round: absent (0) is the first.
func ParseRound(round int) (int, error) {
	switch {
	case round == 0:
		return 1, nil
	case round < 1 || round > MaxRound:
		return 0, invalid("round must be between 1 and %d", MaxRound)
	}
	return round, nil
}

// SettledVote is a vote of an earlier round, as its juror's record counts it.
type SettledVote struct {
	JurorID string
	Vote    string
	Agreed  bool
}

// Regrade is how the final decision changes an earlier vote's record:
// whether it agrees now and the change to its juror's agreed count.
type Regrade struct {
	JurorID string
	Agreed  bool
	Delta   int // -1, 0 or +1
}

// RegradeAgainst measures earlier rounds' votes against final, the decision
// that replaced theirs: a vote agrees when it matches final, and a juror's
// agreed count moves by the difference. Repeating it against the same
// final changes nothing more (every delta is then 0).
func RegradeAgainst(votes []SettledVote, final string) []Regrade {
	out := make([]Regrade, 0, len(votes))
	for _, v := range votes {
		agreed := Agrees(v.Vote, final)
		delta := 0
		switch {
		case agreed && !v.Agreed:
			delta = 1
		case !agreed && v.Agreed:
			delta = -1
		}
		out = append(out, Regrade{JurorID: v.JurorID, Agreed: agreed, Delta: delta})
	}
	return out
}
