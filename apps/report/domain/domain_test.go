package domain

import (
	"errors"
	"testing"
	"time"
)

func TestDefaultPolicyIsValidForEveryKind(t *testing.T) {
	t.Parallel()
	for _, k := range Kinds {
		if err := DefaultPolicy(k).Validate(); err != nil {
			t.Errorf("default policy for %s: %v", k, err)
		}
	}
}

func TestPolicyValidation(t *testing.T) {
	t.Parallel()
	mod := func(f func(*Policy)) Policy { p := DefaultPolicy("item"); f(&p); return p }
	cases := []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"three jurors two to win", mod(func(p *Policy) { p.JurySize, p.Quorum = 3, 2 }), true},
		{"single juror", mod(func(p *Policy) { p.JurySize, p.Quorum = 1, 1 }), true},
		{"quorum of half is not a majority", mod(func(p *Policy) { p.JurySize, p.Quorum = 4, 2 }), false},
		{"quorum above jury", mod(func(p *Policy) { p.Quorum = 6 }), false},
		{"zero jury", mod(func(p *Policy) { p.JurySize, p.Quorum = 0, 0 }), false},
		{"huge jury", mod(func(p *Policy) { p.JurySize, p.Quorum = 1001, 600 }), false},
		{"sub-second juror timeout", mod(func(p *Policy) { p.JurorTimeout = Duration(500 * time.Millisecond) }), false},
		{"one second is enough", mod(func(p *Policy) { p.JurorTimeout, p.MaxDuration = Duration(time.Second), Duration(time.Second) }), true},
		{"zero max duration", mod(func(p *Policy) { p.MaxDuration = 0 }), false},
		{"negative substitutes", mod(func(p *Policy) { p.MaxSubstitutes = -1 }), false},
		{"escalate", mod(func(p *Policy) { p.OnTimeout = OnTimeoutEscalate }), true},
		{"unknown on_timeout", mod(func(p *Policy) { p.OnTimeout = "coin-flip" }), false},
		{"unknown kind", mod(func(p *Policy) { p.Kind = "video" }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			if c.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %v does not wrap ErrInvalidPolicy", err)
			}
		})
	}
}

func TestDurationRoundTripsAsGoString(t *testing.T) {
	t.Parallel()
	var d Duration
	if err := d.UnmarshalJSON([]byte(`"1m30s"`)); err != nil || time.Duration(d) != 90*time.Second {
		t.Fatalf("got %v, %v", time.Duration(d), err)
	}
	b, _ := d.MarshalJSON()
	if string(b) != `"1m30s"` {
		t.Fatalf("marshal = %s", b)
	}
	for _, bad := range []string{`90`, `"soon"`, `null`} {
		if err := d.UnmarshalJSON([]byte(bad)); err == nil && bad != `null` {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestReportValidation(t *testing.T) {
	t.Parallel()
	good := Report{ReporterID: "u1", Target: Target{Kind: "item", ID: "i1", OwnerID: "u2"}, Reason: "fake"}
	mod := func(f func(*Report)) Report { r := good; f(&r); return r }
	cases := []struct {
		name string
		r    Report
		ok   bool
	}{
		{"complete report", good, true},
		{"with evidence", mod(func(r *Report) { r.Evidence = []string{"https://x/1.png"} }), true},
		{"unknown kind", mod(func(r *Report) { r.Target.Kind = "video" }), false},
		{"missing target id", mod(func(r *Report) { r.Target.ID = "" }), false},
		{"missing owner", mod(func(r *Report) { r.Target.OwnerID = " " }), false},
		{"reporting yourself", mod(func(r *Report) { r.Target.OwnerID = "u1" }), false},
		{"blank reason", mod(func(r *Report) { r.Reason = "  " }), false},
		{"empty evidence entry", mod(func(r *Report) { r.Evidence = []string{""} }), false},
		{"overlong id", mod(func(r *Report) { r.Target.ID = string(make([]byte, 200)) }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.r.Validate(); c.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestQuorumDecidesAsSoonAsOneSideReachesIt(t *testing.T) {
	t.Parallel()
	r := NewRound(3, []string{"a", "b", "c", "d", "e"})
	for _, v := range []struct{ juror, decision string }{{"a", VoteUphold}, {"b", VoteReject}, {"c", VoteUphold}} {
		if err := r.Cast(v.juror, v.decision); err != nil {
			t.Fatal(err)
		}
		if _, done := r.Decided(); done {
			t.Fatalf("decided after %s with tally %+v", v.juror, r.Tally())
		}
	}
	if err := r.Cast("d", VoteUphold); err != nil {
		t.Fatal(err)
	}
	if s, done := r.Decided(); !done || s != StatusUpheld {
		t.Fatalf("Decided() = %q, %v; want upheld", s, done)
	}
}

func TestRejectQuorumRejects(t *testing.T) {
	t.Parallel()
	r := NewRound(2, []string{"a", "b", "c"})
	_ = r.Cast("a", VoteReject)
	_ = r.Cast("b", VoteReject)
	if s, done := r.Decided(); !done || s != StatusRejected {
		t.Fatalf("Decided() = %q, %v; want rejected", s, done)
	}
}

func TestSecondVoteFromSameJurorIsRejected(t *testing.T) {
	t.Parallel()
	r := NewRound(3, []string{"a", "b", "c", "d", "e"})
	_ = r.Cast("a", VoteUphold)
	if err := r.Cast("a", VoteUphold); !errors.Is(err, ErrAlreadyVoted) {
		t.Fatalf("second vote: %v, want ErrAlreadyVoted", err)
	}
	if got := r.Tally(); got != (Tally{Uphold: 1}) {
		t.Fatalf("tally %+v", got)
	}
}

func TestVoteFromNonJurorIsNotCounted(t *testing.T) {
	t.Parallel()
	r := NewRound(1, []string{"a"})
	if err := r.Cast("mallory", VoteUphold); !errors.Is(err, ErrNotJuror) {
		t.Fatalf("got %v, want ErrNotJuror", err)
	}
	if _, done := r.Decided(); done {
		t.Fatal("a non-juror decided the case")
	}
}

func TestInvalidDecisionIsRefused(t *testing.T) {
	t.Parallel()
	r := NewRound(1, []string{"a"})
	if err := r.Cast("a", "maybe"); !errors.Is(err, ErrInvalidVote) {
		t.Fatalf("got %v, want ErrInvalidVote", err)
	}
}

func TestOutcomeWithoutQuorumFollowsPolicy(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy("post")
	if got := Outcome(Tally{Uphold: 2, Reject: 2}, p); got != StatusUndecided {
		t.Fatalf("got %s, want undecided", got)
	}
	p.OnTimeout = OnTimeoutEscalate
	if got := Outcome(Tally{Uphold: 1}, p); got != StatusEscalated {
		t.Fatalf("got %s, want escalated", got)
	}
	if got := Outcome(Tally{Uphold: 3, Reject: 1}, p); got != StatusUpheld {
		t.Fatalf("a quorum at the deadline still decides: got %s", got)
	}
}

func TestClosedStatuses(t *testing.T) {
	t.Parallel()
	for s, closed := range map[string]bool{StatusPending: false, StatusVoting: false, StatusUpheld: true,
		StatusRejected: true, StatusUndecided: true, StatusEscalated: true} {
		if Closed(s) != closed {
			t.Errorf("Closed(%s) = %v", s, !closed)
		}
	}
}
