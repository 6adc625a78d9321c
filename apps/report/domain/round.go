package domain

import "time"

// Seat is one juror's place in a round: drawn at a time (as a substitute or
// not), reminded half-way to their deadline, then either voted or released:
// for not answering, or recused because they reported the target.
type Seat struct {
	// Every seat rides in the round's workflow history (the engine keeps the
	// history of every open round in memory): zero fields are left out of
	// its JSON, under the names they always had.
	JurorID    string    `json:",omitzero"`
	DrawnAt    time.Time `json:",omitzero"`
	RemindAt   time.Time `json:",omitzero"`
	Deadline   time.Time `json:",omitzero"`
	Substitute bool      `json:",omitzero"`
	Reminded   bool      `json:",omitzero"`
	Voted      bool      `json:",omitzero"`
	Decision   string    `json:",omitzero"`
	Released   bool      `json:",omitzero"`
	Recused    bool      `json:",omitzero"`
	// Reliability is the juror's estimate when drawn, weighing their vote in
	// an adaptive round (zero when the reviewer gave none).
	Reliability Reliability `json:",omitzero"`
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
	recusals    int
}

// NewRound starts a round under p that must end by deadline.
func NewRound(p Policy, deadline time.Time) *Round {
	return &Round{policy: p, deadline: deadline}
}

// RestoreRound rebuilds a round from the seats the report database recorded
// (a round restarted, or continued as new). Each seat's deadline is the
// recorded one; its reminder falls half-way, as when it was drawn.
func RestoreRound(p Policy, deadline time.Time, seats []Seat) *Round {
	r := NewRound(p, deadline)
	for _, s := range seats {
		s.RemindAt = s.DrawnAt.Add(time.Duration(p.JurorTimeout) / 2)
		if s.Voted {
			r.tally.Add(s.Decision)
		}
		if s.Substitute {
			r.substitutes++
		}
		if s.Recused {
			r.recusals++
		}
		r.seats = append(r.seats, &s)
	}
	return r
}

// Deadline is when the round ends without a quorum.
func (r *Round) Deadline() time.Time { return r.deadline }

// Seat gives juror a seat drawn at drawnAt; their answer is due juror_timeout
// later (never after the round's deadline) and a reminder half-way.
func (r *Round) Seat(juror string, drawnAt time.Time) {
	r.seatWith(juror, drawnAt, Reliability{})
}

func (r *Round) seatWith(juror string, drawnAt time.Time, rel Reliability) {
	t := NewSeatTimes(r.policy, drawnAt, r.deadline)
	r.seats = append(r.seats, &Seat{JurorID: juror, DrawnAt: drawnAt, RemindAt: t.RemindAt, Deadline: t.Deadline, Reliability: rel})
}

// SeatTimes are the times of a seat drawn at DrawnAt: its reminder half-way
// to juror_timeout, its answer due at the end of it (never after the
// round's deadline).
type SeatTimes struct {
	DrawnAt, RemindAt, Deadline time.Time
}

// NewSeatTimes are the times of a seat drawn at drawnAt under p in a round
// that ends at roundDeadline.
func NewSeatTimes(p Policy, drawnAt, roundDeadline time.Time) SeatTimes {
	timeout := time.Duration(p.JurorTimeout)
	deadline := drawnAt.Add(timeout)
	if deadline.After(roundDeadline) {
		deadline = roundDeadline
	}
	return SeatTimes{DrawnAt: drawnAt, RemindAt: drawnAt.Add(timeout / 2), Deadline: deadline}
}

// FirstWake is when the round first needs to act on a fresh seat: its
// reminder, or its deadline when the reminder would not come before it
// (Round.NextWake's rule for a seat not yet reminded).
func (t SeatTimes) FirstWake() time.Time {
	if t.RemindAt.Before(t.Deadline) {
		return t.RemindAt
	}
	return t.Deadline
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
	s.Voted, s.Decision = true, decision
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

// Recuse frees the seat of a juror who reported the target. Unlike a
// timeout, a recusal does not use up the policy's substitutes: the juror
// could never sit. A juror who voted already keeps the vote (votes are
// immutable) and this changes nothing.
func (r *Round) Recuse(juror string) {
	if s := r.seat(juror); s != nil && s.open() {
		s.Released, s.Recused = true, true
		r.recusals++
	}
}

// Substitute seats a replacement drawn at drawnAt.
func (r *Round) Substitute(juror string, drawnAt time.Time) {
	r.substitutes++
	r.Seat(juror, drawnAt)
	r.seats[len(r.seats)-1].Substitute = true
}

// CanSubstitute reports whether the policy allows another substitute: its
// max_substitutes, plus one for every recused juror.
func (r *Round) CanSubstitute() bool {
	return r.substitutes < r.policy.MaxSubstitutes+r.recusals
}

// NeedsSubstitute reports whether a released seat is still waiting for a
// replacement that the policy allows.
func (r *Round) NeedsSubstitute() bool {
	released := 0
	for _, s := range r.seats {
		if s.Released {
			released++
		}
	}
	return released > r.substitutes && r.CanSubstitute()
}

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

// PoolBackoff is how long a round waits before its attempt-th retry (from
// 0) of a draw the pool could not serve: initial, doubling, capped at limit.
func PoolBackoff(attempt int, initial, limit time.Duration) time.Duration {
	d := initial
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
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
