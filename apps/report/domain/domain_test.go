package domain

import (
	"encoding/json"
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
	for in, want := range map[time.Duration]string{24 * time.Hour: `"24h"`, 90 * time.Minute: `"1h30m"`,
		30 * time.Second: `"30s"`, 0: `"0s"`, time.Hour + time.Second: `"1h0m1s"`, 72 * time.Hour: `"72h"`} {
		if b, _ := Duration(in).MarshalJSON(); string(b) != want {
			t.Errorf("%s marshals as %s, want %s", in, b, want)
		}
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
		{"NUL in target id", mod(func(r *Report) { r.Target.ID = "i\x001" }), false},
		{"control character in reporter id", mod(func(r *Report) { r.ReporterID = "u\x011" }), false},
		{"NUL in owner id", mod(func(r *Report) { r.Target.OwnerID = "\x00" }), false},
		{"NUL in reason", mod(func(r *Report) { r.Reason = "fake\x00" }), false},
		{"bell in reason", mod(func(r *Report) { r.Reason = "fake\a" }), false},
		{"line breaks in reason are text", mod(func(r *Report) { r.Reason = "fake\r\nand\tworse" }), true},
		{"NUL in evidence", mod(func(r *Report) { r.Evidence = []string{"https://x/\x00"} }), false},
		{"invalid UTF-8 in evidence", mod(func(r *Report) { r.Evidence = []string{"\xff"} }), false},
		{"padded id", mod(func(r *Report) { r.Target.ID = " i1" }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.r.Validate(); c.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// newRound seats jurors at t0 under a policy of size len(jurors), quorum q,
// a 10-minute juror timeout and a one-hour round.
func newRound(q int, jurors ...string) *Round {
	p := DefaultPolicy("item")
	p.JurySize, p.Quorum = len(jurors), q
	p.JurorTimeout, p.MaxDuration, p.MaxSubstitutes = Duration(10*time.Minute), Duration(time.Hour), 2
	r := NewRound(p, Deadline(t0, p))
	for _, j := range jurors {
		r.Seat(j, t0)
	}
	return r
}

func TestQuorumDecidesAsSoonAsOneSideReachesIt(t *testing.T) {
	t.Parallel()
	r := newRound(3, "a", "b", "c", "d", "e")
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
	r := newRound(2, "a", "b", "c")
	_ = r.Cast("a", VoteReject)
	_ = r.Cast("b", VoteReject)
	if s, done := r.Decided(); !done || s != StatusRejected {
		t.Fatalf("Decided() = %q, %v; want rejected", s, done)
	}
}

func TestSecondVoteFromSameJurorIsRejected(t *testing.T) {
	t.Parallel()
	r := newRound(3, "a", "b", "c", "d", "e")
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
	r := newRound(1, "a")
	if err := r.Cast("mallory", VoteUphold); !errors.Is(err, ErrNotJuror) {
		t.Fatalf("got %v, want ErrNotJuror", err)
	}
	if _, done := r.Decided(); done {
		t.Fatal("a non-juror decided the case")
	}
}

func TestVoteCommentIsPlainText(t *testing.T) {
	t.Parallel()
	for comment, ok := range map[string]bool{"": true, "looks fake\nto me": true, "nul\x00": false, "esc\x1b[2J": false, "\xfe": false} {
		err := ValidateVote(VoteUphold, comment)
		if ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidVote)) {
			t.Errorf("comment %q: %v, want ok=%v", comment, err, ok)
		}
	}
}

func TestInvalidDecisionIsRefused(t *testing.T) {
	t.Parallel()
	r := newRound(1, "a")
	if err := r.Cast("a", "maybe"); !errors.Is(err, ErrInvalidVote) {
		t.Fatalf("got %v, want ErrInvalidVote", err)
	}
}

func TestJurorIsRemindedHalfWayAndExpiresAtTimeout(t *testing.T) {
	t.Parallel()
	r := newRound(2, "a", "b", "c")
	if got := r.NextWake(); !got.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("first wake %s, want the reminder at +5m", got)
	}
	if due := r.DueReminders(t0.Add(4 * time.Minute)); len(due) != 0 {
		t.Fatalf("reminded early: %v", due)
	}
	_ = r.Cast("a", VoteUphold)
	due := r.DueReminders(t0.Add(5 * time.Minute))
	if len(due) != 2 || due[0] != "b" || due[1] != "c" {
		t.Fatalf("reminders %v, want b and c (a voted)", due)
	}
	for _, j := range due {
		r.MarkReminded(j)
	}
	if got := r.NextWake(); !got.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("wake after reminders %s, want the deadline at +10m", got)
	}
	if exp := r.Expired(t0.Add(10 * time.Minute)); len(exp) != 2 {
		t.Fatalf("expired %v, want b and c", exp)
	}
}

func TestReleasedJurorCannotVoteAndSubstituteGetsFullTimeout(t *testing.T) {
	t.Parallel()
	r := newRound(2, "a", "b", "c")
	r.Release("b")
	if err := r.Cast("b", VoteUphold); !errors.Is(err, ErrJurorReleased) {
		t.Fatalf("vote of released juror: %v", err)
	}
	at := t0.Add(10 * time.Minute)
	r.Substitute("d", at)
	if got := r.Drawn(); len(got) != 4 || got[3] != "d" {
		t.Fatalf("drawn %v", got)
	}
	if exp := r.Expired(at.Add(9 * time.Minute)); len(exp) != 2 {
		t.Fatalf("expired %v, want a and c only (d has until +20m)", exp)
	}
	if err := r.Cast("d", VoteReject); err != nil {
		t.Fatalf("substitute vote: %v", err)
	}
}

func TestSubstitutesStopAtPolicyLimit(t *testing.T) {
	t.Parallel()
	r := newRound(2, "a", "b", "c") // max_substitutes 2
	r.Substitute("d", t0)
	if !r.CanSubstitute() {
		t.Fatal("second substitute refused")
	}
	r.Substitute("e", t0)
	if r.CanSubstitute() {
		t.Fatal("third substitute allowed")
	}
}

func TestJurorDeadlineNeverPassesRoundDeadline(t *testing.T) {
	t.Parallel()
	r := newRound(2, "a", "b", "c")
	late := t0.Add(55 * time.Minute)
	r.Substitute("d", late)
	if exp := r.Expired(t0.Add(time.Hour)); len(exp) != 4 {
		t.Fatalf("at the round deadline every open seat expires, got %v", exp)
	}
	if got := r.NextWake(); !got.After(t0) || got.After(r.Deadline()) {
		t.Fatalf("next wake %s outside the round", got)
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

func TestVoteAfterTheJurorsDeadlineIsRefusedByTheClock(t *testing.T) {
	t.Parallel()
	deadline := t0.Add(time.Minute)
	for _, c := range []struct {
		state string
		at    time.Time
		want  error
	}{
		{SeatDrawn, t0, nil},
		{SeatDrawn, deadline.Add(-time.Microsecond), nil},
		{SeatDrawn, deadline, ErrJurorReleased},
		{SeatDrawn, deadline.Add(time.Hour), ErrJurorReleased},
		{SeatReleased, t0, ErrJurorReleased},
		{SeatVoted, t0, ErrAlreadyVoted},
		{SeatVoted, deadline.Add(time.Hour), ErrAlreadyVoted},
	} {
		if err := MayVote(c.state, deadline, c.at); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s at %s: %v, want %v", c.state, c.at.Sub(t0), err, c.want)
		}
	}
}

func TestRecusedJurorIsReplacedWithoutUsingUpSubstitutes(t *testing.T) {
	t.Parallel()
	r := newRound(2, "a", "b", "c") // max_substitutes 2
	r.Recuse("b")
	if err := r.Cast("b", VoteUphold); !errors.Is(err, ErrJurorReleased) {
		t.Fatalf("vote of recused juror: %v", err)
	}
	if !r.NeedsSubstitute() {
		t.Fatal("recused seat does not ask for a substitute")
	}
	r.Substitute("d", t0)
	r.Release("a")
	r.Substitute("e", t0)
	r.Release("c")
	if !r.NeedsSubstitute() {
		t.Fatal("two timeouts under max_substitutes 2 must still be replaced after a recusal")
	}
	r.Substitute("f", t0)
	r.Release("d")
	if r.NeedsSubstitute() {
		t.Fatal("a third timeout was replaced beyond max_substitutes")
	}
}

func TestJurorWhoVotedIsNotRecused(t *testing.T) {
	t.Parallel()
	r := newRound(2, "a", "b", "c")
	_ = r.Cast("a", VoteReject)
	r.Recuse("a")
	if r.NeedsSubstitute() || r.Tally() != (Tally{Reject: 1}) {
		t.Fatalf("a cast vote is immutable: needs substitute %v, tally %+v", r.NeedsSubstitute(), r.Tally())
	}
}

func TestRestoredRoundCarriesOnWhereTheRecordLeftIt(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy("item")
	p.JurySize, p.Quorum, p.JurorTimeout, p.MaxDuration, p.MaxSubstitutes = 3, 2, Duration(10*time.Minute), Duration(time.Hour), 1
	seats := []Seat{
		{JurorID: "a", DrawnAt: t0, Deadline: t0.Add(10 * time.Minute), Voted: true, Decision: VoteUphold, Reminded: true},
		{JurorID: "b", DrawnAt: t0, Deadline: t0.Add(10 * time.Minute), Released: true, Reminded: true},
		{JurorID: "c", DrawnAt: t0, Deadline: t0.Add(10 * time.Minute), Released: true, Recused: true},
		{JurorID: "d", DrawnAt: t0.Add(10 * time.Minute), Deadline: t0.Add(20 * time.Minute), Substitute: true},
	}
	r := RestoreRound(p, Deadline(t0, p), seats)
	if r.Tally() != (Tally{Uphold: 1}) {
		t.Fatalf("tally %+v", r.Tally())
	}
	// b timed out (substitute d), c was recused: one more substitute is due.
	if !r.NeedsSubstitute() {
		t.Fatal("restored round does not replace the recused juror")
	}
	if due := r.DueReminders(t0.Add(15 * time.Minute)); len(due) != 1 || due[0] != "d" {
		t.Fatalf("reminders %v, want d half-way through its own timeout", due)
	}
	if err := r.Cast("d", VoteUphold); err != nil {
		t.Fatal(err)
	}
	if s, done := r.Decided(); !done || s != StatusUpheld {
		t.Fatalf("Decided() = %s, %v", s, done)
	}
}

func TestPoolBackoffDoublesUpToItsCap(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	for n := range 9 {
		got = append(got, PoolBackoff(n, 5*time.Second, 5*time.Minute))
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("back-off %v, want %v", got, want)
		}
	}
	if d := PoolBackoff(1_000_000, 5*time.Second, 5*time.Minute); d != 5*time.Minute {
		t.Fatalf("a long wait overflows: %s", d)
	}
}

// A seat's JSON is part of every open round's workflow history: the seats
// written before zero fields were left out must decode to the same seat,
// and a fresh seat leaves them out.
func TestSeatJSONLeavesZerosOutAndReadsTheOldForm(t *testing.T) {
	t.Parallel()
	drawn := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	seat := Seat{JurorID: "u1", DrawnAt: drawn, RemindAt: drawn.Add(time.Hour), Deadline: drawn.Add(2 * time.Hour)}
	old := `{"JurorID":"u1","DrawnAt":"2026-12-03T12:00:00Z","RemindAt":"2026-12-03T13:00:00Z","Deadline":"2026-12-03T14:00:00Z",` +
		`"Substitute":false,"Reminded":false,"Voted":false,"Decision":"","Released":false,"Recused":false,"Reliability":{"uphold":0,"reject":0}}`
	var got Seat
	if err := json.Unmarshal([]byte(old), &got); err != nil || got != seat {
		t.Fatalf("old form decoded to %+v (%v), want %+v", got, err, seat)
	}
	b, err := json.Marshal(seat)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"JurorID":"u1","DrawnAt":"2026-12-03T12:00:00Z","RemindAt":"2026-12-03T13:00:00Z","Deadline":"2026-12-03T14:00:00Z"}`
	if string(b) != want {
		t.Fatalf("seat encodes as %s, want %s", b, want)
	}
	voted := Seat{JurorID: "u2", DrawnAt: drawn, Voted: true, Decision: "uphold", Reliability: Reliability{Uphold: .7, Reject: .6}}
	b, _ = json.Marshal(voted)
	var back Seat
	if err := json.Unmarshal(b, &back); err != nil || back != voted {
		t.Fatalf("%s decoded to %+v (%v), want %+v", b, back, err, voted)
	}
}
