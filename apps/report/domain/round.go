package domain

// Round is the in-workflow view of a case's votes: who sits on the jury and how
// each has voted. The workflow feeds it the votes it is told about; the report
// database stays the arbiter of the final tally.
type Round struct {
	quorum int
	jurors map[string]bool
	votes  map[string]string
	tally  Tally
}

// NewRound starts counting for a jury that needs quorum votes on one side.
func NewRound(quorum int, jurors []string) *Round {
	r := &Round{quorum: quorum, jurors: make(map[string]bool, len(jurors)), votes: map[string]string{}}
	for _, j := range jurors {
		r.jurors[j] = true
	}
	return r
}

// Cast counts juror's vote. Votes from outside the jury, repeated votes and
// invalid decisions are refused and leave the count unchanged.
func (r *Round) Cast(juror, decision string) error {
	if !r.jurors[juror] {
		return ErrNotJuror
	}
	if _, ok := r.votes[juror]; ok {
		return ErrAlreadyVoted
	}
	if err := ValidateVote(decision, ""); err != nil {
		return err
	}
	r.votes[juror] = decision
	r.tally.Add(decision)
	return nil
}

// Tally is the count so far.
func (r *Round) Tally() Tally { return r.tally }

// Decided returns the winning status once one side reached the quorum.
func (r *Round) Decided() (string, bool) { return r.tally.Decided(r.quorum) }
