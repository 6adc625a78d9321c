package domain

import "time"

// SeatMore seats juror, drawn at drawnAt with reliability rel, as one more
// seat of an adaptive round (not a substitute: the sequential test counts
// released seats itself).
func (r *Round) SeatMore(juror string, drawnAt time.Time, rel Reliability) {
	r.seatWith(juror, drawnAt, rel)
}

// SetReliability records the estimate of juror's seat.
func (r *Round) SetReliability(juror string, rel Reliability) {
	if s := r.seat(juror); s != nil {
		s.Reliability = rel
	}
}

// Seats returns a copy of the round's seats.
func (r *Round) Seats() []Seat {
	out := make([]Seat, len(r.seats))
	for i, s := range r.seats {
		out[i] = *s
	}
	return out
}

// ReliabilityOf is the estimate a seat's vote is weighed with:
// NewJurorReliability when none was recorded.
func ReliabilityOf(s Seat) Reliability {
	if s.Reliability == (Reliability{}) {
		return NewJurorReliability
	}
	return s.Reliability
}

// AdaptiveStateOf is what the sequential test sees of a round's seats:
// the votes with their voters' reliability, the open seats, and the seats
// released for not answering (a recused seat is neither: the juror could
// never sit, so it uses up nothing).
func AdaptiveStateOf(seats []Seat) AdaptiveState {
	var st AdaptiveState
	for _, s := range seats {
		switch {
		case s.Voted:
			st.Ballots = append(st.Ballots, Ballot{Vote: s.Decision, Reliability: ReliabilityOf(s)})
		case s.Recused:
		case s.Released:
			st.Released++
		default:
			st.Open = append(st.Open, ReliabilityOf(s))
		}
	}
	return st
}

// AdaptiveOutcome is how an adaptive round that ends closes, from its
// votes: the leading side once at least min_jury voted (the side the
// sequential test decided for, when it reached the confidence), else as
// on_timeout says (AdaptiveJury.Close). The posterior of the leading side
// comes with it.
func AdaptiveOutcome(p Policy, ballots []Ballot) (status string, confidence float64) {
	_, confidence = Leading(ballots)
	return p.Adaptive().Close(ballots, p.OnTimeout), confidence
}
