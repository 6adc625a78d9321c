package domain

import "time"

// Seat is one juror's place in a round: drawn at a time, reminded half-way to
// their deadline, then either voted or released for not answering.
type Seat struct {
	JurorID  string
	DrawnAt  time.Time
	RemindAt time.Time
	Deadline time.Time
	Reminded bool
	Voted    bool
	Released bool
}

func (s *Seat) open() bool { return !s.Voted && !s.Released }

// Round is the state of a case's vote round as its workflow sees it: the
// seats, the votes counted, the substitutes drawn. It is pure and
// deterministic, so the workflow can replay it; the report database stays
// the arbiter of the final tally.
type Round struct {
	policy      Policy
	deadline    time.Time
	seats       []*Seat
	tally       Tally
	substitutes int
}

// NewRound starts a round under p that must end by deadline.
func NewRound(p Policy, deadline time.Time) *Round {
	return &Round{policy: p, deadline: deadline}
}

// Deadline is when the round ends without a quorum.
func (r *Round) Deadline() time.Time { return r.deadline }

// Seat gives juror a seat drawn at drawnAt; their answer is due juror_timeout
// later (never after the round's deadline) and a reminder half-way.
func (r *Round) Seat(juror string, drawnAt time.Time) {
	timeout := time.Duration(r.policy.JurorTimeout)
	deadline := drawnAt.Add(timeout)
	if deadline.After(r.deadline) {
		deadline = r.deadline
	}
	r.seats = append(r.seats, &Seat{JurorID: juror, DrawnAt: drawnAt, RemindAt: drawnAt.Add(timeout / 2), Deadline: deadline})
}

func (r *Round) seat(juror string) *Seat {
	for _, s := range r.seats {
		if s.JurorID == juror {
			return s
		}
	}
	return nil
}

// Cast counts juror's vote. Votes from outside the jury, from released
// jurors, repeated votes and invalid decisions are refused and change nothing.
func (r *Round) Cast(juror, decision string) error {
	s := r.seat(juror)
	switch {
	case s == nil:
		return ErrNotJuror
	case s.Voted:
		return ErrAlreadyVoted
	case s.Released:
		return ErrJurorReleased
	}
	if err := ValidateVote(decision, ""); err != nil {
		return err
	}
	s.Voted = true
	r.tally.Add(decision)
	return nil
}

// Tally is the count so far.
func (r *Round) Tally() Tally { return r.tally }

// Decided returns the winning status once one side reached the quorum.
func (r *Round) Decided() (string, bool) { return r.tally.Decided(r.policy.Quorum) }

// DueReminders lists open seats whose reminder time has come.
func (r *Round) DueReminders(now time.Time) []string {
	var due []string
	for _, s := range r.seats {
		if s.open() && !s.Reminded && !now.Before(s.RemindAt) && now.Before(s.Deadline) {
			due = append(due, s.JurorID)
		}
	}
	return due
}

// DeadlineOf is when juror's answer is due (zero for someone never seated).
func (r *Round) DeadlineOf(juror string) time.Time {
	if s := r.seat(juror); s != nil {
		return s.Deadline
	}
	return time.Time{}
}

// MarkReminded records that juror was reminded.
func (r *Round) MarkReminded(juror string) {
	if s := r.seat(juror); s != nil {
		s.Reminded = true
	}
}

// Expired lists open seats whose deadline has passed.
func (r *Round) Expired(now time.Time) []string {
	var out []string
	for _, s := range r.seats {
		if s.open() && !now.Before(s.Deadline) {
			out = append(out, s.JurorID)
		}
	}
	return out
}

// Release frees juror's seat after a timeout.
func (r *Round) Release(juror string) {
	if s := r.seat(juror); s != nil && s.open() {
		s.Released = true
	}
}

// Substitute seats a replacement drawn at drawnAt.
func (r *Round) Substitute(juror string, drawnAt time.Time) {
	r.substitutes++
	r.Seat(juror, drawnAt)
}

// CanSubstitute reports whether the policy allows another substitute.
func (r *Round) CanSubstitute() bool { return r.substitutes < r.policy.MaxSubstitutes }

// Drawn lists everyone ever seated, substitutes and released jurors included.
func (r *Round) Drawn() []string {
	out := make([]string, len(r.seats))
	for i, s := range r.seats {
		out[i] = s.JurorID
	}
	return out
}

// NextWake is the next moment the round must act without a vote: a reminder,
// a juror deadline, or the round's deadline, whichever comes first.
func (r *Round) NextWake() time.Time {
	next := r.deadline
	for _, s := range r.seats {
		if !s.open() {
			continue
		}
		if !s.Reminded && s.RemindAt.Before(next) && s.RemindAt.Before(s.Deadline) {
			next = s.RemindAt
		}
		if s.Deadline.Before(next) {
			next = s.Deadline
		}
	}
	return next
}

// States of a juror's seat as the report database records them.
const (
	SeatDrawn    = "drawn"
	SeatVoted    = "voted"
	SeatReleased = "released"
)

// MayVote says whether a juror whose seat is in state, due to answer by
// deadline, may vote at now. The deadline is the clock's, not the round's:
// a juror whose time ran out is released even if the round has not yet
// caught up (it may lag behind a busy or restarting sidecar).
func MayVote(state string, deadline, now time.Time) error {
	switch {
	case state == SeatVoted:
		return ErrAlreadyVoted
	case state == SeatReleased, !now.Before(deadline):
		return ErrJurorReleased
	}
	return nil
}
