package domain

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func adaptivePolicy(f func(*Policy)) Policy {
	p := DefaultPolicy("item")
	p.Mode, p.MinJury, p.MaxJury, p.Confidence = ModeAdaptive, 3, 15, 0.95
	if f != nil {
		f(&p)
	}
	return p
}

func TestAdaptivePolicyValidation(t *testing.T) {
	t.Parallel()
	classic := func(f func(*Policy)) Policy { p := DefaultPolicy("item"); f(&p); return p }
	cases := []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"adaptive 3-15 at 0.95", adaptivePolicy(nil), true},
		{"explicit classic", classic(func(p *Policy) { p.Mode = ModeClassic }), true},
		{"unknown mode", classic(func(p *Policy) { p.Mode = "lottery" }), false},
		{"classic with min_jury", classic(func(p *Policy) { p.MinJury = 3 }), false},
		{"classic with max_jury", classic(func(p *Policy) { p.MaxJury = 15 }), false},
		{"classic with confidence", classic(func(p *Policy) { p.Mode, p.Confidence = ModeClassic, 0.9 }), false},
		{"adaptive without min_jury", adaptivePolicy(func(p *Policy) { p.MinJury = 0 }), false},
		{"adaptive min above max", adaptivePolicy(func(p *Policy) { p.MinJury, p.MaxJury = 9, 5 }), false},
		{"adaptive max above the cap", adaptivePolicy(func(p *Policy) { p.MaxJury = MaxJurySize + 1 }), false},
		{"adaptive without confidence", adaptivePolicy(func(p *Policy) { p.Confidence = 0 }), false},
		{"adaptive confidence of one", adaptivePolicy(func(p *Policy) { p.Confidence = 1 }), false},
		{"adaptive still checks timings", adaptivePolicy(func(p *Policy) { p.JurorTimeout = 0 }), false},
		{"adaptive still checks on_timeout", adaptivePolicy(func(p *Policy) { p.OnTimeout = "" }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			if c.ok != (err == nil) {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", c.p, err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("%v does not wrap ErrInvalidPolicy", err)
			}
		})
	}
}

func TestPoliciesStoredBeforeModesLoadAsClassicAndClassicJSONIsUnchanged(t *testing.T) {
	t.Parallel()
	old := `{"kind":"post","jury_size":5,"quorum":3,"juror_timeout":"24h","max_duration":"72h","max_substitutes":5,"on_timeout":"undecided","cooldown":"24h"}`
	var p Policy
	if err := json.Unmarshal([]byte(old), &p); err != nil {
		t.Fatal(err)
	}
	if p.IsAdaptive() || p.Validate() != nil || p.FirstDraw() != 5 {
		t.Fatalf("old policy %+v: adaptive %v, valid %v, first draw %d", p, p.IsAdaptive(), p.Validate(), p.FirstDraw())
	}
	b, _ := json.Marshal(p)
	if string(b) != old {
		t.Fatalf("classic policy encodes as %s, want %s", b, old)
	}
	a := adaptivePolicy(nil)
	b, _ = json.Marshal(a)
	for _, want := range []string{`"mode":"adaptive"`, `"min_jury":3`, `"max_jury":15`, `"confidence":0.95`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("adaptive policy %s lacks %s", b, want)
		}
	}
	var back Policy
	if err := json.Unmarshal(b, &back); err != nil || back != a {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestAdaptivePolicyFillsJurySizeAndStartsWithMinJury(t *testing.T) {
	t.Parallel()
	p := adaptivePolicy(func(p *Policy) { p.JurySize, p.Quorum = 0, 0 }).Normalized()
	if p.JurySize != 15 || p.Quorum != 8 || p.Validate() != nil {
		t.Fatalf("normalized %+v: %v", p, p.Validate())
	}
	if p.FirstDraw() != 3 || p.Adaptive() != (AdaptiveJury{3, 15, 0.95}) {
		t.Fatalf("first draw %d, jury %+v", p.FirstDraw(), p.Adaptive())
	}
	set := adaptivePolicy(func(p *Policy) { p.JurySize, p.Quorum = 7, 4 }).Normalized()
	if set.JurySize != 7 || set.Quorum != 4 {
		t.Fatalf("explicit jury_size/quorum changed: %+v", set)
	}
	c := DefaultPolicy("item")
	if c.Normalized() != c {
		t.Fatal("a classic policy changed")
	}
}

func TestAdaptiveStateOfSeats(t *testing.T) {
	t.Parallel()
	good := Reliability{0.9, 0.85}
	seats := []Seat{
		{JurorID: "a", Voted: true, Decision: VoteUphold, Reliability: good},
		{JurorID: "b", Voted: true, Decision: VoteReject}, // no estimate recorded
		{JurorID: "c", Reliability: good},                 // open
		{JurorID: "d", Released: true},                    // timed out
		{JurorID: "e", Released: true, Recused: true},     // reported the target
	}
	st := AdaptiveStateOf(seats)
	want := []Ballot{{VoteUphold, good}, {VoteReject, NewJurorReliability}}
	if len(st.Ballots) != 2 || st.Ballots[0] != want[0] || st.Ballots[1] != want[1] {
		t.Fatalf("ballots %+v", st.Ballots)
	}
	if len(st.Open) != 1 || st.Open[0] != good || st.Released != 1 {
		t.Fatalf("open %+v released %d", st.Open, st.Released)
	}
}

func TestAdaptiveRoundSeatsMoreWithTheirReliability(t *testing.T) {
	t.Parallel()
	p := adaptivePolicy(nil)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRound(p, at.Add(time.Hour))
	r.Seat("a", at)
	r.SetReliability("a", goodJuror)
	r.SeatMore("b", at.Add(time.Minute), newJuror)
	seats := r.Seats()
	if len(seats) != 2 || seats[0].Reliability != goodJuror || seats[1].Reliability != newJuror || seats[1].Substitute {
		t.Fatalf("seats %+v", seats)
	}
	if !r.Seats()[1].DrawnAt.Equal(at.Add(time.Minute)) || r.NeedsSubstitute() {
		t.Fatalf("seat more: %+v", seats[1])
	}
}

func TestAdaptiveOutcomeAgreesWithTheSequentialTest(t *testing.T) {
	t.Parallel()
	p := adaptivePolicy(nil)
	// Three good unanimous votes: Next decides, and closing agrees.
	b := ballots(goodJuror, VoteReject, VoteReject, VoteReject)
	step := p.Adaptive().Next(AdaptiveState{Ballots: b}, p.MaxSubstitutes, p.OnTimeout)
	status, conf := AdaptiveOutcome(p, b)
	if step.Decision != StatusRejected || !step.Confident || status != step.Decision || conf != step.Confidence || conf < 0.95 {
		t.Fatalf("step %+v, outcome %s %.3f", step, status, conf)
	}
	// Two votes at the deadline: below min_jury, on_timeout decides.
	p.OnTimeout = OnTimeoutEscalate
	if s, _ := AdaptiveOutcome(p, ballots(goodJuror, VoteUphold, VoteUphold)); s != StatusEscalated {
		t.Fatalf("two votes closed %s", s)
	}
	// A tie at the deadline favours neither side.
	if s, c := AdaptiveOutcome(p, ballots(newJuror, VoteUphold, VoteReject, VoteUphold, VoteReject)); s != StatusEscalated || c != 0.5 {
		t.Fatalf("tie closed %s %.2f", s, c)
	}
}
