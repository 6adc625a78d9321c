package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/govern/reviewer/domain"
)

func TestWhoMayChangeAJurorsState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		from    domain.JurorState
		to      string
		byOps   bool
		invalid bool
		locked  bool
	}{
		{"a user pauses themselves", domain.JurorActive, "paused", false, false, false},
		{"a user resumes from a pause", domain.JurorPaused, "active", false, false, false},
		{"a user cannot suspend themselves", domain.JurorActive, "suspended", false, true, false},
		{"a user cannot retire themselves", domain.JurorActive, "retired", false, true, false},
		{"a suspended user cannot resume", domain.JurorSuspended, "active", false, false, true},
		{"a retired user cannot resume", domain.JurorRetired, "active", false, false, true},
		{"an operator lifts a suspension", domain.JurorSuspended, "active", true, false, false},
		{"an operator retires a juror", domain.JurorActive, "retired", true, false, false},
		{"candidate cannot be set", domain.JurorActive, "candidate", true, true, false},
		{"an unknown state", domain.JurorActive, "sleeping", true, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			to, err := domain.ParseStoredState(tc.to)
			if err == nil {
				c := domain.StateChange{UserID: "u", To: to, Actor: "u", ByOps: tc.byOps}
				if err = c.Validate(); err == nil {
					err = c.Allowed(tc.from)
				}
			}
			switch {
			case tc.invalid && !errors.Is(err, domain.ErrInvalidArgument):
				t.Fatalf("err = %v, want invalid argument", err)
			case tc.locked && !errors.Is(err, domain.ErrStateLocked):
				t.Fatalf("err = %v, want state locked", err)
			case !tc.invalid && !tc.locked && err != nil:
				t.Fatalf("err = %v, want allowed", err)
			}
		})
	}
}

func TestActiveUserOutsideThePoolRuleIsShownAsCandidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rule := domain.PoolRule{RequiredTags: []string{"verified"}, ActiveWithin: time.Hour}
	matching := domain.Profile{Tags: []string{"verified"}, LastActiveAt: now}
	cases := []struct {
		name  string
		state domain.JurorState
		p     domain.Profile
		want  domain.JurorState
	}{
		{"active and matching", domain.JurorActive, matching, domain.JurorActive},
		{"active without the tag", domain.JurorActive, domain.Profile{LastActiveAt: now}, domain.JurorCandidate},
		{"active but idle", domain.JurorActive, domain.Profile{Tags: []string{"verified"}, LastActiveAt: now.Add(-2 * time.Hour)}, domain.JurorCandidate},
		{"paused stays paused", domain.JurorPaused, domain.Profile{}, domain.JurorPaused},
		{"suspended stays suspended", domain.JurorSuspended, matching, domain.JurorSuspended},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := domain.Reviewer{State: tc.state, Profile: tc.p}
			if got := r.ShownState(rule, now); got != tc.want {
				t.Fatalf("state = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestStateReasonIsFreeTextWithoutControlCharacters(t *testing.T) {
	t.Parallel()
	for reason, ok := range map[string]bool{
		"": true, "on holiday\nback in May": true, strings.Repeat("é", domain.MaxReasonLen): true,
		strings.Repeat("é", domain.MaxReasonLen+1): false, "x\x00": false, "x\x01": false,
	} {
		c := domain.StateChange{UserID: "u", To: domain.JurorPaused, Reason: reason, Actor: "u"}
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("reason %q: %v, want ok=%v", reason, err, ok)
		}
	}
}

func TestStateChangeActorIsAUserID(t *testing.T) {
	t.Parallel()
	for actor, ok := range map[string]bool{"ops-lead": true, "": false, "ops\x00": false, " ops": false} {
		c := domain.StateChange{UserID: "u", To: domain.JurorPaused, Actor: actor, ByOps: true}
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("actor %q: %v, want ok=%v", actor, err, ok)
		}
	}
}
