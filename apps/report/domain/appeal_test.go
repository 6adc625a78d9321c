package domain

import (
	"errors"
	"slices"
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
