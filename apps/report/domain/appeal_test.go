package domain

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWhoMayAppealAndWhen(t *testing.T) {
	t.Parallel()
	decided := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	upheld := AppealableCase{Status: StatusUpheld, Round: 1, DecidedAt: decided, OwnerID: "owner", ReporterIDs: []string{"r1", "r2"}}
	rejected := upheld
	rejected.Status = StatusRejected
	mod := func(c AppealableCase, f func(*AppealableCase)) AppealableCase { f(&c); return c }
	in := decided.Add(time.Hour)
	cases := []struct {
		name   string
		c      AppealableCase
		caller string
		now    time.Time
		want   error
	}{
		{"owner of an upheld case", upheld, "owner", in, nil},
		{"reporter of an upheld case", upheld, "r1", in, ErrAppealForbidden},
		{"stranger", upheld, "x", in, ErrAppealForbidden},
		{"any reporter of a rejected case", rejected, "r2", in, nil},
		{"owner of a rejected case", rejected, "owner", in, ErrAppealForbidden},
		{"last instant of the window", upheld, "owner", decided.Add(DefaultAppealWindow), nil},
		{"late", upheld, "owner", decided.Add(DefaultAppealWindow + time.Nanosecond), ErrAppealWindowEnded},
		{"second appeal", mod(upheld, func(c *AppealableCase) { c.Appealed = true }), "owner", in, ErrAlreadyAppealed},
		{"appeal of the appeal", mod(rejected, func(c *AppealableCase) { c.Round = 2 }), "r1", in, ErrAlreadyAppealed},
		{"undecided", mod(upheld, func(c *AppealableCase) { c.Status = StatusUndecided }), "owner", in, ErrNotAppealable},
		{"still voting", mod(upheld, func(c *AppealableCase) { c.Status = StatusVoting }), "owner", in, ErrNotAppealable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.c.MayAppeal(c.caller, c.now, DefaultAppealWindow); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("MayAppeal(%s) = %v, want %v", c.caller, err, c.want)
			}
		})
	}
}

func TestAppealJuryIsLargerAndFresh(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ size, want int }{{5, 11}, {9, 19}, {1, 3}, {60, MaxJurySize}} {
		if got := DefaultAppealJurySize(c.size); got != c.want {
			t.Errorf("DefaultAppealJurySize(%d) = %d, want %d", c.size, got, c.want)
		}
	}
	if q := AppealQuorum(11); q != 6 {
		t.Errorf("AppealQuorum(11) = %d, want 6", q)
	}
	if got := AppealExclusions([]string{"j2", "j1", "j2", "j3"}); !slices.Equal(got, []string{"j1", "j2", "j3"}) {
		t.Errorf("AppealExclusions = %v", got)
	}
	if a := DefaultAdaptiveJury().Appeal(); a.MinJury != 7 || a.MaxJury != 31 || a.Confidence != 0.95 {
		t.Errorf("appeal of the default adaptive jury = %+v", a)
	}
	if err := DefaultAdaptiveJury().Appeal().Validate(); err != nil {
		t.Errorf("appeal jury invalid: %v", err)
	}
}

func TestAppealPolicyFieldsDefaultAndValidate(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy("post")
	if p.Window() != DefaultAppealWindow || p.AppealSize() != 11 {
		t.Fatalf("defaults: window %s, size %d", p.Window(), p.AppealSize())
	}
	a := p.AppealPolicy()
	if a.JurySize != 11 || a.Quorum != 6 || a.JurorTimeout != p.JurorTimeout || a.MaxSubstitutes != p.MaxSubstitutes {
		t.Fatalf("appeal policy %+v", a)
	}
	old := Policy{Kind: "post", JurySize: 3, Quorum: 2}
	if old.Window() != DefaultAppealWindow || old.AppealSize() != 7 {
		t.Fatalf("a policy stored before appeals: window %s, size %d", old.Window(), old.AppealSize())
	}
	for _, tc := range []struct {
		window Duration
		size   int
		ok     bool
	}{
		{0, 0, true},
		{Duration(time.Minute), 6, true},
		{Duration(time.Minute), MaxJurySize, true},
		{-1, 0, false},
		{Duration(MaxRoundDuration + time.Second), 0, false},
		{0, 5, false}, // not larger than the first jury
		{0, 3, false},
		{0, -1, false},
		{0, MaxJurySize + 1, false},
	} {
		q := p
		q.AppealWindow, q.AppealJurySize = tc.window, tc.size
		if err := q.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidPolicy)) {
			t.Errorf("window %s size %d: %v, want ok=%v", time.Duration(tc.window), tc.size, err, tc.ok)
		}
	}
	q := p
	q.AppealJurySize = 9
	if q.AppealPolicy().Quorum != 5 {
		t.Errorf("quorum of 9: %d", q.AppealPolicy().Quorum)
	}
}

func TestAppealReasonIsRequiredPlainText(t *testing.T) {
	t.Parallel()
	for reason, ok := range map[string]bool{"the jury misread it": true, "": false, "bad\u0007": false} {
		if err := (Appeal{Reason: reason}).Validate(); (err == nil) != ok || (err != nil && !errors.Is(err, ErrInvalidAppeal)) {
			t.Errorf("reason %q: %v", reason, err)
		}
	}
}

func TestPolicyJSONWithoutAppealFieldsStillLoads(t *testing.T) {
	t.Parallel()
	var p Policy
	raw := `{"kind":"post","jury_size":3,"quorum":2,"juror_timeout":"1h","max_duration":"2h","max_substitutes":1,"on_timeout":"undecided","cooldown":"0s"}`
	if err := json.Unmarshal([]byte(raw), &p); err != nil || p.Validate() != nil {
		t.Fatalf("old policy: %v %v", err, p.Validate())
	}
	b, _ := json.Marshal(p)
	if strings.Contains(string(b), "appeal") {
		t.Errorf("an unset appeal field is written back: %s", b)
	}
	b, _ = json.Marshal(DefaultPolicy("post"))
	if !strings.Contains(string(b), `"appeal_window":"72h"`) {
		t.Errorf("default policy: %s", b)
	}
}
